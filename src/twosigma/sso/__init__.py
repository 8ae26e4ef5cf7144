"""Single sign-on per university (OpenID Connect) and who may join a university."""
