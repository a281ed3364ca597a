"""PDF intake (apps/kyc/intake.py): refuse what can run or hide, keep a re-written copy of the rest.

A PDF is an object graph. Everything a viewer can act on hangs from the trailer (the catalog, its page tree, the
pages' annotations, the name trees), so the whole reachable graph is walked once, without decoding any stream,
and the file is refused when any object in it

- is or names JavaScript (``/JS``; the catalog's ``/Names /JavaScript`` tree), or is an action that runs
  something (``/Launch``, ``/ImportData``, ``/RichMediaExecute``, ``/GoToE``);
- holds additional actions (``/AA``, on the document, a page, a field or an annotation: triggers on open, close,
  print, focus...), an XFA form (``/XFA``, scriptable) or rich media;
- attaches a file (``/EmbeddedFiles`` in the name tree, ``/EF`` of a file attachment);

or when the catalog's ``/OpenAction`` is an action other than going to a page. What is stored is the copy pypdf
writes from that same graph: bytes after the end of the file, previous revisions and unreferenced objects (where
a polyglot hides its second format) are not in it.
"""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from apps.core.errors import ApplicationError
from apps.kyc.errors import FileCorrupt

_RUNNING_KEYS = frozenset({"/JS", "/JavaScript", "/AA", "/XFA", "/RichMedia"})
_ATTACHMENT_KEYS = frozenset({"/EmbeddedFiles", "/EF"})
_RUNNING_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/RichMediaExecute", "/GoToE"})
# A document of a few hundred pages has tens of thousands of objects; past this the file is refused rather than
# walked for ever.
MAX_OBJECTS = 200_000

_RUNS = "The PDF contains JavaScript or actions that run when it is opened: send a scan or a printed copy."
_ATTACHES = "The PDF carries attached files: send the document alone."


def clean_pdf(raw: bytes, *, max_pages: int) -> tuple[bytes, int]:
    """(re-written PDF, page count), or ``FileCorrupt``."""
    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted:
            raise FileCorrupt("The PDF is encrypted or password-protected: send a copy without protection.")
        pages = len(reader.pages)
        if pages == 0:
            raise FileCorrupt("The PDF has no pages.")
        if pages > max_pages:
            raise FileCorrupt(f"The PDF has {pages} pages; at most {max_pages} are accepted.")
        _refuse_active_content(reader)
        for page in reader.pages:
            _ = page.mediabox  # every page object parses
        writer = PdfWriter(clone_from=reader)
        out = io.BytesIO()
        writer.write(out)
        content = out.getvalue()
        if len(PdfReader(io.BytesIO(content)).pages) != pages:
            raise FileCorrupt("The PDF cannot be read: its page tree is damaged.")
        return content, pages
    except ApplicationError:
        raise
    except Exception as exc:  # pypdf raises many types on malformed input (PdfReadError, KeyError, ValueError...)
        raise FileCorrupt(f"The PDF cannot be read ({type(exc).__name__}): it is damaged or incomplete.") from exc


def _refuse_active_content(reader: PdfReader) -> None:
    root = _resolved(reader.trailer.get("/Root"))
    if isinstance(root, DictionaryObject):
        open_action = _resolved(root.get("/OpenAction"))
        # an array is a destination (open at page n); a dictionary is an action, harmless only as a GoTo
        if isinstance(open_action, DictionaryObject) and _resolved(open_action.get("/S")) != "/GoTo":
            raise FileCorrupt(_RUNS)
    stack: list[Any] = [reader.trailer]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            obj = obj.get_object()
        visited += 1
        if visited > MAX_OBJECTS:
            raise FileCorrupt("The PDF is too complex to check.")
        if isinstance(obj, DictionaryObject):  # streams too: their dictionary, never their data
            for key in obj:
                if key in _RUNNING_KEYS:
                    raise FileCorrupt(_RUNS)
                if key in _ATTACHMENT_KEYS:
                    raise FileCorrupt(_ATTACHES)
            if _resolved(obj.get("/S")) in _RUNNING_ACTIONS:
                raise FileCorrupt(_RUNS)
            stack.extend(dict.values(obj))  # unresolved: indirect references are followed once, above
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)


def _resolved(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value
