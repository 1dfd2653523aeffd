"""WHM API 1: the server's administration for root and resellers (accounts, packages, resellers, tokens, single
sign-on, UAPI through WHM, token oversight)."""
