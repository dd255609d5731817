#include "CCurlShim.h"

CURLcode whago_curl_setopt_long(CURL *handle, CURLoption option, long value) {
  return curl_easy_setopt(handle, option, value);
}

CURLcode whago_curl_setopt_ptr(CURL *handle, CURLoption option, const void *value) {
  return curl_easy_setopt(handle, option, value);
}

CURLcode whago_curl_setopt_write(CURL *handle, size_t (*callback)(char *, size_t, size_t, void *)) {
  return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

CURLcode whago_curl_setopt_header(CURL *handle, size_t (*callback)(char *, size_t, size_t, void *)) {
  return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

CURLcode whago_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
  return curl_easy_getinfo(handle, info, value);
}

CURLMcode whago_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
  return curl_multi_setopt(handle, option, value);
}

CURLcode whago_curl_msg_result(CURLMsg *message) {
  return message->data.result;
}

CURLcode whago_curl_setopt_opensocket(
    CURL *handle, curl_socket_t (*callback)(void *, curlsocktype, struct curl_sockaddr *)) {
  return curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, callback);
}

const struct sockaddr *whago_curl_sockaddr_address(const struct curl_sockaddr *address) {
  return &address->addr;
}
