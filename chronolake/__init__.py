"""chronolake: a time-travel SQL store over Parquet, speaking Snowflake's SQL."""

from chronolake.api.connection import Connection as Connection
from chronolake.api.connection import connect as connect
from chronolake.api.cursor import Cursor as Cursor
from chronolake.api.lake import Lake as Lake
from chronolake.api.loading import write_arrow as write_arrow
from chronolake.api.loading import write_pandas as write_pandas
from chronolake.errors import AlreadyExists as AlreadyExists
from chronolake.errors import CatalogBusy as CatalogBusy
from chronolake.errors import CatalogError as CatalogError
from chronolake.errors import CatalogUnavailable as CatalogUnavailable
from chronolake.errors import ConflictError as ConflictError
from chronolake.errors import DatabaseError as DatabaseError
from chronolake.errors import DataError as DataError
from chronolake.errors import Error as Error
from chronolake.errors import IntegrityError as IntegrityError
from chronolake.errors import InterfaceError as InterfaceError
from chronolake.errors import InternalError as InternalError
from chronolake.errors import LimitExceeded as LimitExceeded
from chronolake.errors import NotFound as NotFound
from chronolake.errors import NotSupportedError as NotSupportedError
from chronolake.errors import OperationalError as OperationalError
from chronolake.errors import PermissionDenied as PermissionDenied
from chronolake.errors import ProgrammingError as ProgrammingError
from chronolake.errors import ReadOnlyError as ReadOnlyError
from chronolake.errors import RequestTooLarge as RequestTooLarge
from chronolake.errors import SqlError as SqlError
from chronolake.errors import StatementCanceled as StatementCanceled
from chronolake.errors import StatementTimeout as StatementTimeout
from chronolake.errors import TimeTravelError as TimeTravelError
from chronolake.errors import Unauthenticated as Unauthenticated
from chronolake.errors import Warning as Warning
from chronolake.settings import Settings as Settings

apilevel = "2.0"
threadsafety = 1
paramstyle = "qmark"
__version__ = "0.1.0"
