"""chronolake's SQL dialect: Snowflake's grammar plus chronolake's own statements.

``Chronolake`` subclasses sqlglot's Snowflake dialect only where Snowflake's grammar is missing
or too loose for us, and registers itself as ``"chronolake"``, so
``sqlglot.parse(text, read="chronolake")`` returns typed trees for every statement we run:

- ``RESTORE TABLE t TO AT|BEFORE(<kind> => <point>)`` -> ``Restore``
- ``REVERT STATEMENT <query id>`` -> ``Revert``
- ``ALTER ACCOUNT | DATABASE | SCHEMA [IF EXISTS] [name] SET p = v [, ...] | UNSET p [, ...]``
  -> ``AlterParameters``
- ``UNSET name | (name, ...)`` (session variables) -> ``Unset``
- ``START TRANSACTION`` -> ``exp.Transaction`` (as ``BEGIN``)
- ``CREATE ... DATA_RETENTION_TIME_IN_DAYS = -1`` parses (the value is refused later, with
  Snowflake's message); ``?::TYPE`` is a cast of a placeholder.
- A statement that starts with a word in ``ENGINE_STATEMENTS`` (``PRAGMA``, ``ATTACH``, ``COPY``,
  ...) is read whole into an ``exp.Command`` whatever follows, so it is always refused as that
  statement (never reported as a syntax error of its arguments).

Every custom statement must end where its grammar ends: sqlglot reports any token left over as
a syntax error, at its line and column in the user's own text (nothing is rewritten before
parsing).

Adding a statement (e.g. ``CREATE STREAM``):

1. a node class below, with its ``arg_types``;
2. a parser method. A statement with a new first word gets an entry in
   ``Parser.LEAD_STATEMENTS`` (word -> method, called after the word); a new kind of an
   existing statement overrides the hook sqlglot calls for it (as ``_parse_alter`` below does
   for ALTER ACCOUNT | DATABASE | SCHEMA; CREATE STREAM would override ``_parse_create``).
   Read exactly the grammar and call ``raise_error`` on anything else; never fall back to
   ``exp.Command``;
3. a ``<key>_sql`` method on ``Generator`` that writes the node back as SQL, and its entry in
   ``Generator.TRANSFORMS``;
4. three fixture lines in ``tests/grammar/fixtures/statements.sql`` (the statement, its node
   class, its normalised SQL), and its handler in ``chronolake.sql.executor``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, cast

from sqlglot import exp
from sqlglot.dialects.snowflake import Snowflake
from sqlglot.errors import ParseError, TokenError
from sqlglot.generators.snowflake import SnowflakeGenerator
from sqlglot.parser import Parser as SqlglotParser
from sqlglot.parsers.snowflake import SnowflakeParser
from sqlglot.tokens import Token, TokenType

# -- nodes ---------------------------------------------------------------------------------


class Restore(exp.Expression):
    """RESTORE TABLE t TO AT|BEFORE(...): ``this`` is the table, its ``when`` the point."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True}


class Revert(exp.Expression):
    """REVERT STATEMENT <query id>: ``this`` is the expression that gives the query id."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True}


class AlterParameters(exp.Expression):
    """ALTER ACCOUNT | DATABASE | SCHEMA [IF EXISTS] [name] SET p = v [...] | UNSET p [, ...].

    ``kind`` is the object kind, ``this`` the name (an ``exp.Table``; None for ACCOUNT),
    ``expressions`` the parameters: ``exp.Property`` (SET) or ``exp.Var`` (UNSET)."""

    arg_types: ClassVar[dict[str, bool]] = {
        "kind": True,
        "this": False,
        "exists": False,
        "expressions": True,
    }


class Unset(exp.Expression):
    """UNSET name | (name, ...): session variables; ``expressions`` are identifiers."""

    arg_types: ClassVar[dict[str, bool]] = {"expressions": True}


# -- tokenizer -----------------------------------------------------------------------------


class Tokenizer(Snowflake.Tokenizer):
    # "?::" is one (PostgreSQL JSON) token in sqlglot; here it is a placeholder and a cast
    KEYWORDS: ClassVar[dict[str, TokenType]] = {
        k: v for k, v in Snowflake.Tokenizer.KEYWORDS.items() if k != "?::"
    }

    def tokenize(self, sql: str) -> list[Token]:
        """sqlglot's tokens; a TokenError's ``start`` is the offset of the token that could not
        be read (an unclosed quote or comment), not of a context snippet."""
        try:
            return super().tokenize(sql)
        except TokenError as e:
            start = getattr(getattr(self, "_core", None), "_start", None)
            raise TokenError(str(e.__cause__ or e), start=start) from e


# -- parser --------------------------------------------------------------------------------

_INTERVAL_UNITS = frozenset({"YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"})

_ParseMethod = Callable[["Parser"], exp.Expr]


class Parser(SnowflakeParser):
    # statements that reach the engine's files, extensions or settings: read whole, refused
    ENGINE_STATEMENTS: ClassVar[frozenset[str]] = frozenset(
        {
            "ATTACH",
            "DEALLOCATE",
            "DETACH",
            "EXECUTE",
            "PREPARE",
            "INSTALL",
            "LOAD",
            "PRAGMA",
            "COPY",
            "EXPORT",
            "IMPORT",
            "CALL",
            "CHECKPOINT",
            "FORCE",
            "VACUUM",
            "RESET",
            "PUT",
            "GET",
            "REMOVE",
            "LIST",
            "ANALYZE",
            "SUMMARIZE",
        }
    )

    # first word of a statement -> its parser, called with the word consumed
    LEAD_STATEMENTS: ClassVar[dict[str, _ParseMethod]] = {
        "RESTORE": lambda self: self._parse_restore(),
        "REVERT": lambda self: self._parse_revert(),
        "UNSET": lambda self: self._parse_unset(),
        "START": lambda self: self._parse_start_transaction(),
    }

    PARAMETER_OBJECTS: ClassVar[tuple[str, ...]] = ("ACCOUNT", "DATABASE", "SCHEMA")

    def parse(self, raw_tokens: list[Token], sql: str) -> list[exp.Expr | None]:
        def top(parser: SqlglotParser) -> exp.Expr | None:
            return cast(Parser, parser)._parse_top_statement()

        return self._parse(parse_method=top, raw_tokens=raw_tokens, sql=sql)

    def raise_error(self, message: str, token: Token | None = None) -> None:
        """sqlglot's error, plus where the offending token starts (or that input ended)."""
        at_end = not token and not self._curr  # sqlglot's "no token" is a falsy sentinel
        token = token or self._curr or self._prev or Token.string("")
        where = {"start": len(self.sql) if at_end else token.start, "at_end": at_end}
        try:
            super().raise_error(message, token)
        except ParseError as e:
            e.errors[0].update(where)
            raise
        if self.errors:  # error levels that collect instead of raising
            self.errors[-1].errors[0].update(where)

    # -- statement dispatch --------------------------------------------------------------

    def _lead_word(self) -> str:
        tok = self._curr
        # only a bare word leads: a quoted name or a string never does
        if not tok or not self.sql[tok.start : tok.start + 1].isalpha():
            return ""
        return tok.text.upper()

    def _parse_interval(
        self, require_interval: bool = True, parse_function_unit: bool = True
    ) -> exp.Add | exp.Interval | None:
        """An interval; ``'90' DAY (3)`` (leading-field precision) reads as ``'90' DAY``."""
        node = super()._parse_interval(require_interval, parse_function_unit)
        unit = node.args.get("unit") if isinstance(node, exp.Interval) else None
        # sqlglot reads ``DAY (3)`` as the function DAY(3); the precision only bounds digits
        if (
            isinstance(node, exp.Interval)
            and isinstance(unit, exp.Func)
            and isinstance(unit.this, exp.Literal)
            and unit.this.is_int
            and len(unit.args) == 1
            and unit.key.upper() in _INTERVAL_UNITS
        ):
            node.set("unit", exp.var(unit.key.upper()))
        return node

    def _parse_top_statement(self) -> exp.Expr | None:
        word = self._lead_word()
        if word in self.ENGINE_STATEMENTS:
            self._advance()
            return self._parse_as_command(self._prev)
        lead = self.LEAD_STATEMENTS.get(word)
        if lead is not None:
            self._advance()
            return lead(self)
        stmt = self._parse_statement()
        stop = stmt.meta.get("stopped_at") if isinstance(stmt, exp.Command) else None
        if stop is not None and stop[0] >= 2:
            # sqlglot knew the statement but not what follows: that is a syntax error there
            # (a kind it does not know, as ALTER WAREHOUSE, stays a Command: refused later)
            self.raise_error("Unexpected token", Token(*stop[1:]))
        return stmt

    def _parse_as_command(self, start: Token) -> exp.Command:
        stop, index = self._curr, self._index
        command = super()._parse_as_command(start)
        if stop:  # where sqlglot stopped reading the statement as grammar
            where = (stop.token_type, stop.text, stop.line, stop.col, stop.start, stop.end)
            command.meta["stopped_at"] = (index, *where)
        return command

    def _raise_at(self, node: exp.Expr, message: str) -> None:
        """A syntax error at a parsed node (its first token's position)."""
        meta = node.meta
        start, end = meta.get("start", 0), meta.get("end", 0)
        text = self.sql[start : end + 1]
        self.raise_error(
            message,
            Token(TokenType.VAR, text, meta.get("line", 1), meta.get("col", 1), start, end),
        )

    def _expect(self, *words: str) -> None:
        if not self._match_text_seq(*words):
            self.raise_error(f"Expected {' '.join(words)}")

    # -- chronolake's statements -----------------------------------------------------------

    def _parse_restore(self) -> Restore:
        self._expect("TABLE")
        table = self._parse_table_parts()
        if not isinstance(table, exp.Table):
            self.raise_error("Expected a table name")
            table = exp.Table()
        self._expect("TO")
        table.set("when", self._parse_point())
        return self.expression(Restore(this=table))

    def _parse_point(self) -> exp.HistoricalData:
        """AT|BEFORE(<kind> => <expression>), each part required (errors name the missing one)."""
        if not self._match_texts(("AT", "BEFORE")):
            self.raise_error("Expected AT(<kind> => <point>) or BEFORE(<kind> => <point>)")
        this = self._prev.text.upper()
        if not self._match(TokenType.L_PAREN):
            self.raise_error("Expected (")
        if not self._match_texts(self.HISTORICAL_DATA_KIND):
            self.raise_error(f"Expected one of {', '.join(sorted(self.HISTORICAL_DATA_KIND))}")
        kind = self._prev.text.upper()
        if not self._match(TokenType.FARROW):
            self.raise_error("Expected =>")
        point = self._parse_bitwise()
        if point is None:
            self.raise_error("Expected a point")
        self._match_r_paren()
        return self.expression(exp.HistoricalData(this=this, kind=kind, expression=point))

    def _parse_revert(self) -> Revert:
        self._expect("STATEMENT")
        query_id = self._parse_assignment()
        if query_id is None:
            self.raise_error("Expected a query id")
        return self.expression(Revert(this=query_id))

    def _parse_unset(self) -> Unset:
        wrapped = self._match(TokenType.L_PAREN)
        names = self._parse_csv(self._parse_variable_name)
        if not names:
            self.raise_error("Expected a variable name")
        if wrapped:
            self._match_r_paren()
        return self.expression(Unset(expressions=names))

    def _parse_variable_name(self) -> exp.Expr | None:
        self._match(TokenType.PARAMETER)  # UNSET $x names the variable x
        return self._parse_id_var(any_token=False)

    def _parse_start_transaction(self) -> exp.Expr:
        self._expect("TRANSACTION")
        return self._parse_transaction()

    def _parse_transaction(self) -> exp.Transaction:
        """Snowflake's BEGIN [WORK | TRANSACTION] [NAME <name>] (after BEGIN or START ...)."""
        self._match_texts(("TRANSACTION", "WORK"))
        modes = []
        if self._match_text_seq("NAME"):
            name = self._parse_id_var(any_token=False)
            if name is None:
                self.raise_error("Expected a transaction name")
            modes = [f"NAME {name.sql(dialect='snowflake')}"] if name is not None else []
        return self.expression(exp.Transaction(modes=modes))

    def _parse_alter(self) -> exp.Expr:  # type: ignore[override] # AlterParameters too
        if self._lead_word() in self.PARAMETER_OBJECTS:
            node = self._parse_alter_parameters()
            if node is not None:
                return node
        return super()._parse_alter()

    def _parse_alter_parameters(self) -> AlterParameters | None:
        """ALTER ACCOUNT | DATABASE | SCHEMA ... SET | UNSET; None (nothing read) otherwise."""
        index = self._index
        kind = self._curr.text.upper()
        self._advance()
        exists = self._parse_exists()
        target = None if kind == "ACCOUNT" else self._parse_object_name(kind)
        if not self._match_texts(("SET", "UNSET")):
            if kind == "ACCOUNT":
                self.raise_error("Expected SET or UNSET: ALTER ACCOUNT takes no name")
            self._retreat(index)
            return None
        if kind == "ACCOUNT" and exists:
            self.raise_error("ALTER ACCOUNT takes no IF EXISTS", self._prev)
        unset = self._prev.text.upper() == "UNSET"
        items = [self._parse_parameter_name() if unset else self._parse_parameter_assignment()]
        while self._curr:
            comma = self._match(TokenType.COMMA)
            if unset and not comma:
                break  # UNSET names are separated by commas: anything else is left over
            items.append(
                self._parse_parameter_name() if unset else self._parse_parameter_assignment()
            )
        return self.expression(
            AlterParameters(kind=kind, this=target, exists=exists, expressions=items)
        )

    def _parse_object_name(self, kind: str) -> exp.Expr | None:
        """The name after ALTER DATABASE | SCHEMA: [database.]schema or database."""
        if self._curr.text.upper() in ("SET", "UNSET"):
            self.raise_error(f"Expected a {kind.lower()} name")
        target = self._parse_table_parts()
        parts = target.parts if isinstance(target, exp.Table) else []
        allowed = 1 if kind == "DATABASE" else 2
        if len(parts) > allowed:
            self._raise_at(parts[allowed], f"A {kind.lower()} name has at most {allowed} part(s)")
        return target

    def _parse_parameter_name(self) -> exp.Var:
        name = self._parse_id_var(any_token=False)
        if name is None:
            self.raise_error("Expected a parameter name")
            return exp.var("")
        return exp.var(name.name.upper())

    def _parse_parameter_assignment(self) -> exp.Property:
        name = self._parse_parameter_name()
        if not self._match(TokenType.EQ):
            self.raise_error("Expected =")
        value = self._parse_bitwise()
        if value is None:
            self.raise_error("Expected a value")
        return self.expression(exp.Property(this=name, value=value))

    # -- Snowflake's grammar, tightened ----------------------------------------------------

    def _parse_set(self, unset: bool = False, tag: bool = False) -> exp.Set:
        # sqlglot reads a SET it cannot finish as a Command; here what is left over is a
        # syntax error. GLOBAL / SESSION / LOCAL stay visible as the item's kind
        items = self._parse_csv(self._parse_set_item)
        for item in items:
            if isinstance(item, exp.SetItem) and not item.args.get("kind"):
                item.set("kind", "VARIABLE")
        return self.expression(exp.Set(expressions=items, unset=unset, tag=tag))

    def _parse_set_item_assignment(self, kind: str | None = None) -> exp.Expr | None:
        item = super()._parse_set_item_assignment(kind)
        value = item.this.expression if item is not None and isinstance(item.this, exp.EQ) else None
        if isinstance(value, exp.Alias):  # "SET x = 1 garbage": a value has no alias
            self._raise_at(value.args["alias"], "Unexpected token")
        return item

    def _parse_insert(self) -> exp.Insert | exp.MultitableInserts:
        insert = super()._parse_insert()
        values = insert.expression if isinstance(insert, exp.Insert) else None
        alias = values.args.get("alias") if isinstance(values, exp.Values) else None
        if alias is not None:  # "INSERT ... VALUES (1) garbage": VALUES here has no alias
            self._raise_at(alias.this if alias.this is not None else alias, "Unexpected token")
        return insert

    def _parse_select(self, *args: Any, **kwargs: Any) -> exp.Expr | None:
        # DuckDB's "FROM t [SELECT ...]" is no Snowflake query (it would also make
        # "CREATE TABLE t (id INT) FROM u" a CTAS): FROM cannot start one
        if self._curr and self._curr.token_type == TokenType.FROM:
            return None
        return super()._parse_select(*args, **kwargs)

    def _parse_use(self) -> exp.Use:
        # a name, not a table reference: "USE s garbage" would read garbage as an alias
        kind = self._parse_var_from_options(self.USABLES, raise_unmatched=False)
        return self.expression(exp.Use(kind=kind, this=self._parse_table_parts()))

    # -- Snowflake's grammar, loosened -----------------------------------------------------

    def _parse_property_before(self) -> Any:
        # "NAME = -1" before a CREATE's name: Snowflake's parser reads no sign there, so the
        # value would be a syntax error instead of Snowflake's "invalid value [-1]"
        after = self._tokens[self._index + 2] if self._index + 2 < len(self._tokens) else None
        if (
            self._next is not None
            and self._next.token_type == TokenType.EQ
            and after is not None
            and after.token_type == TokenType.DASH
            and self._curr.text.upper() not in self.PROPERTY_PARSERS
        ):
            return self._parse_key_value_property(self._parse_bitwise)
        return super()._parse_property_before()


# -- generator -----------------------------------------------------------------------------


class Generator(SnowflakeGenerator):
    # sqlglot finds "<key>_sql" methods only for its own node classes: ours are listed here
    TRANSFORMS: ClassVar[dict[type[exp.Expr], Callable[..., str]]] = {
        **SnowflakeGenerator.TRANSFORMS,
        Restore: lambda self, e: self.restore_sql(e),
        Revert: lambda self, e: self.revert_sql(e),
        Unset: lambda self, e: self.unset_sql(e),
        AlterParameters: lambda self, e: self.alterparameters_sql(e),
    }

    def restore_sql(self, e: Restore) -> str:
        table = e.this.copy()
        when = table.args.get("when")
        table.set("when", None)
        return f"RESTORE TABLE {self.sql(table)} TO {self.sql(when)}"

    def revert_sql(self, e: Revert) -> str:
        return f"REVERT STATEMENT {self.sql(e, 'this')}"

    def unset_sql(self, e: Unset) -> str:
        names = self.expressions(e, flat=True)
        return f"UNSET ({names})" if len(e.expressions) > 1 else f"UNSET {names}"

    def alterparameters_sql(self, e: AlterParameters) -> str:
        exists = " IF EXISTS" if e.args.get("exists") else ""
        name = f" {self.sql(e, 'this')}" if e.this is not None else ""
        items = e.expressions
        if all(isinstance(item, exp.Property) for item in items):
            pairs = ", ".join(f"{self.sql(p, 'this')} = {self.sql(p, 'value')}" for p in items)
            action = f"SET {pairs}"
        else:
            action = f"UNSET {', '.join(self.sql(item) for item in items)}"
        return f"ALTER {e.args['kind']}{exists}{name} {action}"


class Chronolake(Snowflake):
    """Snowflake SQL plus chronolake's statements; registered as the ``chronolake`` dialect."""

    Tokenizer = Tokenizer
    Parser = Parser
    Generator = Generator
