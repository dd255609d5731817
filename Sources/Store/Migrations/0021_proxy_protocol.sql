-- whago-jobs schema, version 21: how a proxy account is spoken to.
--
-- DataImpulse serves HTTP on one port (823) and SOCKS5 on another (824). WAHA takes a session's
-- proxy as `server: host:port` (HTTP, documented) or with a scheme (`socks5://host:port`, which
-- depends on the engine), so the protocol is kept with the account and written into the server.
ALTER TABLE proxies ADD COLUMN protocol text NOT NULL DEFAULT 'http' CHECK (protocol IN ('http', 'socks5'));
