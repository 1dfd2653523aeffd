"""cPanel API 2: `/json-api/cpanel` with the `cpanel_jsonapi_*` arguments and the `cpanelresult` envelope."""
