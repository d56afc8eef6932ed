"""The file-IO layer: every access to a lake's data and delete files goes through it."""

from chronolake.io.file_io import FileEntry as FileEntry
from chronolake.io.file_io import FileIO as FileIO
from chronolake.io.open_storage import open_storage as open_storage
