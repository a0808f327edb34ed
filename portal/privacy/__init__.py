"""Personal data rights (SPEC §2.12): the legal basis of each enrollment and withdrawing
consent (:mod:`.consent`), the access export (:mod:`.access`), erasure that keeps every
figure (:mod:`.erasure`) and retention per beneficiary group (:mod:`.retention`).

Only program managers reach any of it; to a company admin every privacy URL is 404.
The guard other domains call before processing someone —
:func:`portal.privacy.consent.ensure_processing_allowed` — imports nothing but models, so
the delivery and match operations can call it without an import cycle.
"""
