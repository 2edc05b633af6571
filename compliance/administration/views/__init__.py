"""Administration pages (admins only): the index, agents, users and roles, the site policy and its re-judging."""
