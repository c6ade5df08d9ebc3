"""Grading one large gradebook in parts, one process per core, the parts split between
students.

Every grade (a target's, a competency's, a course's, a progression's) is about one student,
and exports list a student's evidence together. So a large long-format file is cut at line
starts where the student id changes, and each part is read, graded and written by a process
of its own, the first part by this one. After the parse, a run is mostly numpy's passes over
whole columns, which one Python process makes one at a time, on one core; in parts every core
works all the way through (at a million rows on two cores: ~0.07 s of ~0.6 s, see
benchmarks/README.md). The children are forked once the modules are imported and the
framework loaded, before any thread is started; they share the memory-mapped file and write
their rows to temporary files that this process appends to its own, in order.

The parts' results are the whole file's only when no student has evidence in two parts and
the file-wide choices agree, so each part's is checked before anything is put in place:

- each part's students come after the previous part's (then none is in two parts, and the
  parts' rows, each sorted by student, concatenate to the sorted whole);
- each part is one record per line, in UTF-8 (`csvsniff.NotSplittable` otherwise);
- the decimal mark the reader chose for each part is the one it chooses for all the scores;
- every diagnostic can be made the whole file's: counts added up, listed rows taken in file
  order up to the listing limit, notes about the header the same in every part, ids that
  differ only by leading zeros looked for again among every part's students.

If any check fails (a student listed in two parts), the parts are thrown away and the caller
grades the file whole, as without this module: the outputs are the same bytes either way
(tests/test_split_run.py compares both ways), only files that split cleanly gain. A file
whose sampled lines, or last 8 KB, are not in student order (listed by date or by task, or
with rows added at the end) is not cut at all. Only the command line uses this module, for CSV
outputs (``--format json`` needs all the evidence in one place), on Linux (fork), with two
cores or more.
"""

from __future__ import annotations

import contextlib
import csv
import os
import pickle
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from mastery_cli import csvtext

if TYPE_CHECKING:
    from mastery_cli.diagnostics import Diagnostic
    from mastery_cli.framework.model import Framework
    from mastery_cli.grading.csvsniff import DecodedCsv
    from mastery_cli.grading.pipeline import GradeCounts
    from mastery_cli.grading.policy import Policy
    from mastery_cli.grading.summary import RunSummary

#: Smaller files are graded whole: a part must be worth a process.
SPLIT_BYTES = 32 * 1024 * 1024
#: Bytes of file per part at least, and parts at most.
PART_BYTES = 12 * 1024 * 1024
MAX_PARTS = 8
#: How far past a cut point to look for a line where the student changes.
_SEARCH_BYTES = 4 * 1024 * 1024

#: Diagnostics that are about the file's header or the framework: the same in every part.
_SAME_IN_EVERY_PART = frozenset({"ignored-columns", "bad-outcome-map"})
_NAMES = "conflicting-student-name"


@dataclass
class SplitOutcome:
    """A run graded in parts: its counts, summary (when asked for), diagnostics, and the
    files put in place."""

    counts: GradeCounts
    summary: RunSummary | None
    diagnostics: list[Diagnostic]
    written: list[Path]


def cpu_count() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worth_splitting(files: Sequence[Path], *, json_output: bool, outcome_map_given: bool
                    ) -> bool:
    """Whether `fork_parts` may be tried (cheap: no byte of the file is read)."""
    if json_output or outcome_map_given or len(files) != 1:
        return False
    if not sys.platform.startswith("linux") or not hasattr(os, "fork") or cpu_count() < 2:
        return False
    try:
        return os.path.isfile(files[0]) and os.path.getsize(files[0]) >= SPLIT_BYTES
    except OSError:
        return False


@dataclass(frozen=True)
class PartJob:
    """What a part is graded with (`grade_part`)."""

    file: Path
    out: Path
    input_format: str | None = None
    keep_duplicates: bool = False
    summarize: bool = True


def fork_parts(job: PartJob, framework: Framework, policy: Policy) -> Parts | None:
    """Cut ``job.file`` between students and start grading it: one forked process per part
    but the first, which `Parts.finish` grades in this process. None when the file is not
    one to cut (then nothing was started).

    Forked once the modules are imported and the framework loaded, before any thread is
    started (a child has only the thread that forked it): the children share all that.
    Starting them earlier, for each to import and load while its part is parsed, measured no
    faster: the work done twice takes the core the overlap frees.
    """
    global _last_header
    cut = _spans(job, min(cpu_count(), MAX_PARTS))
    _last_header = None  # let go of the file's bytes
    if cut is None or not splittable(cut[1], framework, policy, job.input_format):
        return None
    spans = cut[0]
    sys.stdout.flush()  # nothing buffered is written twice
    sys.stderr.flush()
    children: list[tuple[int, int]] = []
    try:
        for span in spans[1:]:
            read_end, write_end = os.pipe()
            with warnings.catch_warnings():
                # Python 3.12+ warns about forking a process with threads: pyarrow's allocator
                # keeps one (fork-safe); as an error (-W error) it would leave a child behind.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:  # the child: grades its part, says how it went, exits
                os.close(read_end)
                for _, earlier in children:
                    os.close(earlier)
                _child(job, framework, policy, span, write_end)
            os.close(write_end)
            children.append((pid, read_end))
    except OSError:  # no more processes or pipes to be had: grade the file whole
        Parts(job, framework, policy, spans, children).cancel()
        return None
    return Parts(job, framework, policy, spans, children)


class Parts:
    """A file being graded in parts (`fork_parts`)."""

    def __init__(self, job: PartJob, framework: Framework, policy: Policy,
                 spans: list[tuple[int, int]], children: list[tuple[int, int]]) -> None:
        self.job = job
        self.framework = framework
        self.policy = policy
        self.spans = spans
        self._children = children
        self._told: list[int] = []  # children that have sent their part, to be reaped

    def finish(self, on_step: Callable[[str], None] | None = None) -> SplitOutcome | None:
        """Grade the first part, gather the others, and put the files in place; None when
        the parts cannot be the whole file's results (nothing is written then: grade the
        file whole)."""
        own: _Part | None = None
        reports: list[_Part | None] = []
        try:
            try:
                own = grade_part(self.job, self.framework, self.policy, self.spans[0],
                                 first=True, on_step=on_step)
            except Exception:  # (the whole-file run meets it again and reports it)
                own = None
            reports = self._gathered()
            merged = _merged([own, *reports], str(self.job.file), self.policy)
            if merged is None or own is None:
                _discard([own, *reports])
                return None
            written = []
            for name, file_part in own.files.items():
                file_part.append(report.files[name] for report in reports if report is not None)
                written.append(file_part.commit())
            return SplitOutcome(*merged, written)
        except BaseException:
            # Interrupted (^C): the children stop too (they share the terminal); what any
            # process wrote is removed.
            _discard([own, *reports, *self._gathered()])
            raise
        finally:
            self._reap()

    def cancel(self) -> None:
        """Stop waiting for the parts (the run ended another way): gather the children, and
        remove what they wrote."""
        _discard(self._gathered())
        self._reap()

    def _gathered(self) -> list[_Part | None]:
        """The children's parts, as each has sent it (they are reaped later: a process of
        hundreds of megabytes takes milliseconds to be torn down)."""
        children, self._children = self._children, []
        self._told += [pid for pid, _ in children]
        return [_report(pipe) for _, pipe in children]

    def _reap(self) -> None:
        told, self._told = self._told, []
        for pid in told:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


# ------------------------------------------------------------------------------ the cuts


def may_cut(file: Path, input_format: str | None) -> bool:
    """Whether the file looks like one `fork_parts` can cut, from its first 64 KB (so the
    command line knows whether to parse it early itself)."""
    return _header(file, input_format) is not None


def _header(file: Path, input_format: str | None
            ) -> tuple[DecodedCsv, dict[str, int]] | None:
    """(the sniffed file, its columns) if it reads as a long gradebook of one record per
    line as far as its sample shows; None otherwise. The answer for the file as it is now is
    kept until `fork_parts` has used it (`may_cut` asks first, on the command line)."""
    global _last_header
    try:
        stat = os.stat(file)
    except OSError:
        return None
    key = (str(file), input_format, stat.st_size, stat.st_mtime_ns)
    if _last_header is not None and _last_header[0] == key:
        return _last_header[1]
    found = _sniffed(file, input_format)
    _last_header = (key, found)
    return found


_last_header: tuple[tuple[str, str | None, int, int],
                    tuple[DecodedCsv, dict[str, int]] | None] | None = None


def _sniffed(file: Path, input_format: str | None
             ) -> tuple[DecodedCsv, dict[str, int]] | None:
    from mastery_cli.grading import formats
    from mastery_cli.grading.csvsniff import (
        CsvError,
        not_csv,
        read_input,
        sample_has_quoted_newline,
        sniff,
        without_content,
    )

    if input_format not in (None, "long"):
        return None
    try:
        raw = read_input(file)
        if without_content(raw) or not_csv(bytes(raw[:8])) is not None:
            return None
        decoded = sniff(raw, str(file))
    except (OSError, CsvError):
        return None  # the whole-file reader reports it
    columns = formats.find_columns(decoded.header, None)
    if decoded.diagnostics or not all(c in columns for c in formats.REQUIRED_LONG):
        return None
    if decoded.dialect.has_quotes and sample_has_quoted_newline(decoded):
        return None
    return decoded, columns


def _spans(job: PartJob, parts: int) -> tuple[list[tuple[int, int]], list[str]] | None:
    """(byte ranges of the file's data, one per part, cut where the student changes; the
    header), or None when the file is not one to cut. Only what the file says is known yet:
    `splittable` checks the rest once the framework and policy are loaded."""
    found = _header(job.file, job.input_format)
    if found is None:
        return None
    decoded, columns = found
    size = len(decoded.data)
    parts = min(parts, size // max(PART_BYTES, 1))
    if parts < 2:
        return None
    first = 0
    for _ in range(decoded.header_lines):
        first = _line_after(decoded.data, first)
    if not _sorted_by_student(decoded, columns["student_id"], first):
        return None
    cuts = [0]
    for index in range(1, parts):
        # Past the first data line: the header's "student id" differs from every student, so
        # a cut searched from there would leave a first part with no data.
        cut = _student_change(decoded, columns["student_id"],
                              max(size * index // parts, cuts[-1] + 1, first + 1))
        if cut is not None and cut > cuts[-1]:
            cuts.append(cut)
    if len(cuts) < 2:
        return None
    return list(zip(cuts, [*cuts[1:], size], strict=True)), list(decoded.header)


def splittable(header: Sequence[str], framework: Framework, policy: Policy,
               input_format: str | None) -> bool:
    """Whether a file with ``header`` is read as a plain long gradebook under ``policy``
    (what the parts' checks assume): no column mapping, no outcome map."""
    from mastery_cli.grading import formats

    if policy.input.columns or policy.input.outcome_map:
        return False
    fmt = input_format or policy.input.format or "auto"
    if fmt == "auto":
        fmt = formats.detect(header, formats.TargetMatcher(framework, {}), None) or ""
    return fmt == "long"


def _sorted_by_student(decoded: DecodedCsv, column: int, first: int) -> bool:
    """Whether the student ids of lines all through the file come in order (sampled), and of
    every line of its last few KB (where rows added to a sorted export by hand end up): the
    parts can only be the file's results when each comes after the one before (see the
    checks), so a file listed by date or by task is not cut at all, rather than graded in
    parts only to be graded again whole."""
    data = decoded.data
    size = len(data)
    tail = max(_line_after(data, size - _TAIL_BYTES) if size - _TAIL_BYTES > first else first,
               first)
    ids = []
    for index in range(_SAMPLES):
        at = first + (tail - first) * index // _SAMPLES
        start = _line_after(data, at - 1) if at > first else first
        if start >= tail:
            break
        ids.append(_student_id(bytes(data[start:_line_after(data, start)]), decoded, column))
    for line in bytes(data[tail:]).splitlines():
        if line:
            ids.append(_student_id(line, decoded, column))
    return None not in ids and all(a <= b for a, b in pairwise(ids))  # type: ignore[operator]


#: Lines whose student ids `_sorted_by_student` looks at, and the end it reads whole.
_SAMPLES = 64
_TAIL_BYTES = 8192


def _line_after(data: Any, at: int) -> int:
    """The start of the line after the one holding byte ``at`` (len(data) if none)."""
    step = 4096  # lines are short: a page first, then more
    while at < len(data):
        window = bytes(data[at : at + step])
        found = window.find(b"\n")
        if found >= 0:
            return at + found + 1
        at += len(window)
        step = min(step * 4, 1 << 20)
    return len(data)


def _student_change(decoded: DecodedCsv, column: int, near: int) -> int | None:
    """The first line start at or after ``near`` whose student id differs from the line
    before's (None when there is none close by)."""
    data = decoded.data
    start = _line_after(data, near - 1) if near else 0
    window = bytes(data[max(start - 65536, 0) : start + _SEARCH_BYTES])
    offset = max(start - 65536, 0)
    before = window.rfind(b"\n", 0, start - offset - 1) + 1
    previous = _student_id(window[before : start - offset], decoded, column)
    at = start - offset
    while at < len(window):
        end = window.find(b"\n", at)
        if end < 0:
            return None
        current = _student_id(window[at:end + 1], decoded, column)
        if current is None or previous is None:
            return None
        if current != previous:
            return offset + at
        previous, at = current, end + 1
    return None


def _student_id(line: bytes, decoded: DecodedCsv, column: int) -> str | None:
    try:
        fields = next(csvtext.reader(line.decode("utf-8"), decoded.dialect.delimiter))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return None
    return fields[column].strip() if column < len(fields) else None


# ------------------------------------------------------------------------------ the parts


@dataclass
class _Part:
    """What a part sends back: its files (written, not in place), its summary and what the
    checks of `_merged` need."""

    files: dict[str, Any]  # name -> PendingFile (this process) or its temporary path
    counts: GradeCounts
    summary: RunSummary | None
    diagnostics: list[Diagnostic]
    reasons: dict[str, int]  # the reader's rejects per reason
    decimal_marks: tuple[bool, bool]
    students: tuple[str, str] | None  # the first and last student id with evidence
    names: list[Any]  # ingest._NamePairs: each (student id, name) with its first line


def grade_part(job: PartJob, framework: Framework, policy: Policy, span: tuple[int, int],
               *, first: bool, on_step: Callable[[str], None] | None = None) -> _Part:
    """Grade one part of the file and write its CSV rows into ``job.out`` (with the header
    lines if ``first``), not in place yet."""
    import numpy as np

    from mastery_cli.grading.ingest import EvidenceSet
    from mastery_cli.grading.outputs import OutputWriter
    from mastery_cli.grading.pipeline import grade
    from mastery_cli.grading.summary import RunSummary, text_tally
    from mastery_cli.grading.table import text_codes

    read: list[EvidenceSet] = []
    with OutputWriter(job.out, header=first) as writer:
        result = grade(
            [job.file], framework, policy, input_format=job.input_format,
            keep_duplicates=job.keep_duplicates, on_step=on_step, part=span,
            on_read=read.append,
            on_unused_rows=lambda unused: writer.unused_rows_ready(unused, policy.places),
            on_first_results=lambda first: writer.first_results_ready(first, policy.places),
        )
        if on_step is not None:
            on_step("write")
        files = writer.pending(result)
    try:
        evidence = result.tables.evidence
        students = None
        if len(evidence):
            codes, texts = text_codes(evidence.coded("student_id"))
            present = np.flatnonzero(np.bincount(codes, minlength=len(texts)))
            students = (texts[int(present[0])], texts[int(present[-1])])
        return _Part(
            files=dict(files),
            counts=result.counts,
            summary=RunSummary.of(result) if job.summarize else None,
            diagnostics=list(result.diagnostics),
            reasons=dict(text_tally([result.tables.rejects], "reason")),
            decimal_marks=(read[0].files[0].decimal_marks if read and read[0].files
                           else (False, False)),
            students=students,
            names=list(read[0].names) if read else [],
        )
    except BaseException:
        for file in files.values():
            file.discard()
        raise


def _child(job: PartJob, framework: Framework, policy: Policy, span: tuple[int, int],
           pipe: int) -> NoReturn:
    """A forked process's whole life: grade a part, send what `_report` reads, exit without
    running anything of the parent's (no finally blocks, no atexit)."""
    try:
        part: _Part | None = None
        try:
            part = grade_part(job, framework, policy, span, first=False)
            part.files = {name: file.temp for name, file in part.files.items()}
            payload = pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as problem:  # (told to the parent, which goes on)
            _discard([part])
            payload = pickle.dumps(f"{type(problem).__name__}: {problem}")
        with os.fdopen(pipe, "wb") as stream:
            stream.write(payload)
    finally:
        os._exit(0)


def _report(pipe: int) -> _Part | None:
    """A child's part (None if it failed), once it has sent it."""
    with os.fdopen(pipe, "rb") as stream:
        payload = stream.read()
    try:
        part = pickle.loads(payload)
    except Exception:  # (a child killed mid-write)
        return None
    return part if isinstance(part, _Part) else None


def _discard(parts: Sequence[_Part | None]) -> None:
    for part in parts:
        if part is None:
            continue
        for file in part.files.values():
            if isinstance(file, str):
                if os.path.exists(file):
                    os.unlink(file)
            else:
                file.discard()


# ------------------------------------------------------------------------------ the merge


def _merged(parts: Sequence[_Part | None], shown: str, policy: Policy
            ) -> tuple[GradeCounts, RunSummary | None, list[Diagnostic]] | None:
    """The whole file's summary and diagnostics, or None when the parts cannot be the whole
    file's results (see the module's checks)."""
    from mastery_cli.grading.summary import RunSummary, added_counts

    done = [p for p in parts if p is not None]
    if len(done) != len(parts):
        return None
    ranges = [p.students for p in done if p.students is not None]
    if any(last >= first for (_, last), (first, _) in pairwise(ranges)):
        return None  # a student in two parts, or parts out of order
    if policy.input.decimal is None:
        # Detected from the scores seen: a comma when some have one and none a point.
        def comma(marks: tuple[bool, bool]) -> bool:
            return marks == (True, False)

        whole = (any(p.decimal_marks[0] for p in done), any(p.decimal_marks[1] for p in done))
        if any(comma(p.decimal_marks) != comma(whole) for p in done):
            return None  # a part read its scores with another decimal mark than the file's
    diagnostics = _merged_diagnostics(done, shown)
    if diagnostics is None:
        return None
    counts = added_counts([p.counts for p in done])
    summaries = [p.summary for p in done if p.summary is not None]
    summary = RunSummary.merged(summaries) if len(summaries) == len(done) else None
    return counts, summary, diagnostics


def _merged_diagnostics(parts: Sequence[_Part], shown: str) -> list[Diagnostic] | None:
    """The diagnostics the reader gives for the whole file, from its parts' (None when one
    cannot be made: a kind not known to add up)."""
    from mastery_cli.grading.ingest import (
        LEADING_ZEROS,
        REASON_CODES,
        IngestConfig,
        _limited,
        duplicates_note,
        leading_zero_ids,
        more_rejected,
        no_score_note,
    )

    limit = IngestConfig().max_listed_per_reason
    known = {*_SAME_IN_EVERY_PART, *REASON_CODES.values(), _NAMES, LEADING_ZEROS}
    if any(d.code not in known for p in parts for d in p.diagnostics):
        return None
    same = [d for d in parts[0].diagnostics if d.code in _SAME_IN_EVERY_PART]
    if any([d for d in p.diagnostics if d.code in _SAME_IN_EVERY_PART] != same
           for p in parts[1:]):
        return None
    merged = list(same)
    for code in REASON_CODES.values():
        total = sum(p.reasons.get(code, 0) for p in parts)
        of_code = [d for p in parts for d in p.diagnostics if d.code == code]
        if not total:
            if of_code:
                return None
            continue
        if code == "no-score":
            merged.append(no_score_note(total, shown))
        elif code == "duplicate-row":
            merged.append(duplicates_note(total, min(d.line or 0 for d in of_code), shown))
        else:
            listed = [d for d in of_code if d.line is not None]
            merged += listed[:limit]
            if total > limit:
                merged.append(more_rejected(code, total - limit, shown))
    names = [d for p in parts for d in p.diagnostics if d.code == _NAMES]
    if any(d.line is None for d in names):
        return None  # a part listed only some of its students with two names
    merged += _limited(names, limit, _NAMES, "students with two names")
    # Ids that differ only by leading zeros sort apart, so they are in different parts: the
    # check is made again on every part's students.
    merged += leading_zero_ids([n for p in parts for n in p.names], limit)
    return merged
