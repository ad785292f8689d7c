# The agent<->agent fetch protocol: what a collector sends to a source agent
# to read the lines of one stream, and what the source answers.
#
# Transport: the collector's ZeroMQ DEALER connects to the source's ROUTER on
# the agent's endpoint (the `endpoint` of its stream records). One flat,
# unpacked Cap'n Proto message (capnp::messageToFlatArray) per ZeroMQ frame:
# an AgentRequest one way, an AgentResponse the other. Many requests may be in
# flight on one connection; each carries a collector-chosen id (never 0) that
# its answer repeats. The source answers bytes it cannot decode with a
# FetchResponse of id 0 and error badRequest.
#
# Positions. A stream is a sequence of files; a position is (file, offset):
# `file` is the source's opaque file id (<= 128 bytes, stable for the file's
# life, never a path) and `offset` the next byte to read in that file. Reads
# are positional and stateless on the source: repeating a request returns the
# same lines, so a collector retries a lost request freely.
#
# Field numbers are forever: add new fields at the end, never renumber.
@0xa8d822f15bbab3b0;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("corral::schema::agent");

struct FetchRequest {
  id @0 :UInt64;               # chosen by the collector (non-zero), repeated in the answer
  stream @1 :Text;             # "<app>/<topic>": one stream this source serves
  file @2 :Text;               # where to read: a file id; empty = the oldest file retained
  offset @3 :UInt64;           # byte offset in `file` (ignored when `file` is empty: 0)
  # The collector's durable checkpoint (what it has committed for the stream).
  # The source may close and forget retained files wholly before it: files
  # that precede `committedFile` in the stream's order. Empty = none yet.
  committedFile @4 :Text;
  committedOffset @5 :UInt64;
  # Upper bound on `data` in the answer; 0 is badRequest, values above the
  # source's limit (4 MiB) are lowered to it. A single line longer than
  # maxBytes is still returned whole (see FetchResponse.data).
  maxBytes @6 :UInt32;
}

enum FetchError {
  ok @0;
  badRequest @1;      # a field is missing, out of range, or the bytes did not decode
  unknownStream @2;   # this source serves no such stream
  unknownFile @3;     # `file` is not (or no longer) retained: see FetchResponse
  tooLarge @4;        # the request is past a documented bound
  unavailable @5;     # the source cannot serve now (stopping, I/O error): retry later
}

struct FetchResponse {
  id @0 :UInt64;               # the request's id; 0 when the request did not decode
  error @1 :FetchError;
  message @2 :Text;            # for people: what was wrong, or a note (e.g. bytes lost to truncation)
  # Where `data` starts. Differs from the request when the requested file was
  # finished and the source moved on to the next one (then offset = 0).
  # unknownFile: the oldest retained file and its first offset, so that the
  # collector knows where the stream continues and what it lost.
  file @3 :Text;
  offset @4 :UInt64;
  # Whole lines, each ending in '\n', at most maxBytes, all from `file`.
  # Exceptions, both so that a reader never stalls:
  #  - a line longer than maxBytes (but at most kMaxLineBytes = 1 MiB with its
  #    '\n') is returned alone, whole;
  #  - a line longer than kMaxLineBytes is cut: each kMaxLineBytes-byte piece
  #    is returned as a line of its own with a '\n' appended;
  #  - a finished file (the source moved past it) whose last line has no '\n'
  #    gets a '\n' appended to that line.
  # Hence the bytes of `data` may exceed nextOffset - offset by the appended
  # '\n's: positions come from nextFile/nextOffset, never from data's size.
  # A partial last line of a file that is still written is held back.
  data @5 :Data;
  nextFile @6 :Text;           # where the next fetch starts (the checkpoint after `data`)
  nextOffset @7 :UInt64;
  # Bytes retained after (nextFile, nextOffset) across all the stream's
  # retained files: the collector's lag when the answer was made.
  endBytes @8 :UInt64;
}

# The streams a source serves: a hello for people and tests.
struct StreamsRequest {
  id @0 :UInt64;
}

struct StreamInfo {
  name @0 :Text;               # "<app>/<topic>"
  paths @1 :List(Text);        # the globs tailed, for people
  files @2 :UInt32;            # files retained now
  retainedBytes @3 :UInt64;    # their total size
}

struct StreamsResponse {
  id @0 :UInt64;
  streams @1 :List(StreamInfo);
}

struct AgentRequest {
  union {
    fetch @0 :FetchRequest;
    streams @1 :StreamsRequest;
  }
}

struct AgentResponse {
  union {
    fetch @0 :FetchResponse;
    streams @1 :StreamsResponse;
  }
}
