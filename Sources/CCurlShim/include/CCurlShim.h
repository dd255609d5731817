#pragma once
#include <curl/curl.h>

/* curl_easy_setopt is variadic, which Swift cannot call. One typed, non-variadic
   entry point per argument kind, as swift-corelibs-foundation does. */
CURLcode whago_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode whago_curl_setopt_ptr(CURL *handle, CURLoption option, const void *value);
CURLcode whago_curl_setopt_write(CURL *handle, size_t (*callback)(char *, size_t, size_t, void *));
CURLcode whago_curl_setopt_header(CURL *handle, size_t (*callback)(char *, size_t, size_t, void *));
CURLcode whago_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLMcode whago_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value);
/* The result of a finished transfer, read from the union in CURLMsg. */
CURLcode whago_curl_msg_result(CURLMsg *message);
/* The callback that opens each connection's socket: where the address connected to, after DNS,
   is checked against the outbound address policy. */
CURLcode whago_curl_setopt_opensocket(
    CURL *handle, curl_socket_t (*callback)(void *, curlsocktype, struct curl_sockaddr *));
/* The address curl is about to connect to (as long as the family's own sockaddr type, which
   struct curl_sockaddr's 16-byte member is not for IPv6). */
const struct sockaddr *whago_curl_sockaddr_address(const struct curl_sockaddr *address);
