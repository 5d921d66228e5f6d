"""The WeChat Official Account (公众号): message crypto, safe XML, the callback, its outbox."""
