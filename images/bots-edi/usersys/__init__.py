"""usersys of the edirunbook Bots EDI image: grammars, mappings, charsets and scripts, written for this project.

Seeded onto the data volume (/home/bots/.bots/env/$BOTSENV/usersys) by the entrypoint when missing.
"""
