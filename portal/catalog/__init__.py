"""The sponsors' catalog (SPEC §4 "Catalog"): active public programs as cards, with the
figures a company may see. It reads programs and campaigns, so it sits above both."""
