"""Statements: one handler per kind (DDL, DML, CLONE, UNDROP, RESTORE, SHOW, ...)."""
