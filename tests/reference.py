"""A deliberately slow, literal reference parser for ``text/event-stream``.

Written straight from the WHATWG HTML standard, section "Interpreting an
event stream" (9.2.6), plus this project's API contract:

* ``Event.id`` is the *last event ID string* at dispatch time, ``None`` if
  the stream never set one (the spec's initial value is the empty string;
  the contract uses ``None`` to mean "never set").
* ``Event.retry`` is the integer of a valid ``retry`` field that appeared in
  the event's own block (lines since the previous blank line), else ``None``.
* the parser-level ``retry`` is the last valid ``retry`` value, updated as
  soon as its line is complete (even if the block is never finished).

No cleverness on purpose: decode everything, scan char by char, process
each line exactly as the spec's prose says.

``parse(data)`` returns ``(events, last_event_id, retry)`` where ``events``
is a list of ``(id, event, data, retry)`` tuples.
"""

CR = "\r"
LF = "\n"
BOM = "\ufeff"
NULL = "\x00"
ASCII_DIGITS = "0123456789"


def decode(data, char_enc="utf-8"):
    # "Streams must be decoded using the UTF-8 decode algorithm."
    # The UTF-8 decode algorithm replaces errors with U+FFFD and strips one
    # leading byte order mark.
    text = data.decode(char_enc, errors="replace")
    if text.startswith(BOM):
        text = text[1:]
    return text


def split_lines(text):
    """Return (complete_lines, incomplete_tail).

    A line ends at CRLF, at an LF not preceded by CR, or at a CR not
    followed by LF. Nothing else ends a line.
    """
    lines = []
    current = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == CR:
            lines.append(current)
            current = ""
            if i + 1 < len(text) and text[i + 1] == LF:
                i = i + 1  # CRLF is a single line ending
        elif ch == LF:
            lines.append(current)
            current = ""
        else:
            current = current + ch
        i = i + 1
    return lines, current


def is_all_ascii_digits(value):
    if value == "":
        return False
    return all(ch in ASCII_DIGITS for ch in value)


def parse(data, char_enc="utf-8"):
    text = decode(data, char_enc)
    lines, _incomplete_last_line = split_lines(text)

    events = []
    data_buffer = ""
    event_type_buffer = ""
    last_event_id_buffer = None  # None: never set by the stream
    last_event_id = None  # the "last event ID string"
    retry = None  # the reconnection time
    block_retry = None  # retry seen in the current block, for Event.retry

    for line in lines:
        if line == "":
            # "If the line is empty (a blank line): Dispatch the event"
            # Step 1: set the last event ID string from the buffer.
            last_event_id = last_event_id_buffer
            # Step 2: empty data buffer -> reset buffers, nothing dispatched.
            if data_buffer == "":
                data_buffer = ""
                event_type_buffer = ""
                block_retry = None
                continue
            # Step 3: remove one trailing LF.
            if data_buffer.endswith(LF):
                data_buffer = data_buffer[:-1]
            # Step 4: type is the event type buffer, or "message" if empty.
            event_type = event_type_buffer if event_type_buffer != "" else "message"
            events.append((last_event_id, event_type, data_buffer, block_retry))
            # Step 5: reset the data and event type buffers.
            data_buffer = ""
            event_type_buffer = ""
            block_retry = None
            continue

        if line.startswith(":"):
            # "If the line starts with a U+003A COLON character (:)
            # Ignore the line."
            continue

        if ":" in line:
            colon = line.index(":")  # the first colon
            field = line[:colon]
            value = line[colon + 1 :]
            if value.startswith(" "):
                value = value[1:]  # only ONE leading space
        else:
            field = line
            value = ""

        if field == "event":
            event_type_buffer = value
        elif field == "data":
            data_buffer = data_buffer + value + LF
        elif field == "id":
            if NULL not in value:
                last_event_id_buffer = value
        elif field == "retry":
            if is_all_ascii_digits(value):
                retry = int(value, 10)
                block_retry = retry
        else:
            pass  # unknown field: ignored

    # "Once the end of the file is reached, any pending data must be
    # discarded." The incomplete last line and the unfinished block are
    # simply dropped.
    return events, last_event_id, retry


def items(data, char_enc="utf-8"):
    """The events and the comments of ``data`` in stream order: a list of
    ``("event", (id, event, data, retry))`` and ``("comment", text)``.

    The spec ignores a comment line; this project's ``on_comment`` contract
    reports each complete one, its text being what follows the colon less
    ONE leading space, the rule for a field's value.  Only complete lines
    count: a comment still waiting for its line end is not reported.
    """
    text = decode(data, char_enc)
    lines, _incomplete_last_line = split_lines(text)
    result = []
    dispatched = 0
    consumed = ""
    for line in lines:
        # Re-run the reference on the lines so far: an event appears at the
        # blank line that dispatches it, so the order comes out right.
        consumed = consumed + line + LF
        if line.startswith(":"):
            value = line[1:]
            if value.startswith(" "):
                value = value[1:]
            result.append(("comment", value))
        elif line == "":
            # (A BOM in front, which `decode` takes off again: the text may
            # start with a second one, which is not to be dropped.)
            events = parse((BOM + consumed).encode("utf-8"), "utf-8")[0]
            for event in events[dispatched:]:
                result.append(("event", event))
            dispatched = len(events)
    return result
