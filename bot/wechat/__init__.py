"""The WeChat Official Account (公众号) channel: message crypto, safe XML and the adapter."""
