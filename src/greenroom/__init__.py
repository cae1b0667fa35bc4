"""Greenroom: a developer portal that speaks Backstage's formats."""

__version__ = "0.1.0"
