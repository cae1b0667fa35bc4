"""Org: Backstage's org plugin as a Greenroom capability.

The groups tree at `/org`, and two entity tabs: a group's Members (profile, parent,
sub-groups, members) and Ownership (what a group or a user owns, counted by kind
and type, directly or together with sub-groups or the user's groups). Everything
is read through the catalog's query service with LIMITed queries and facets, so
the pages stay fast on a catalog of a million entities.
"""
