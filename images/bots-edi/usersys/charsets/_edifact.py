"""Codecs for the EDIFACT character repertoires UNOA and UNOB (ISO 9735), for Bots' charset lookup.

Bots looks up a codec named like the UNB charset (e.g. `unoa`) in usersys/charsets/<name>.py and calls
its getregentry(). A byte outside the repertoire is a decode error (or replaced, per the grammar's
checkcharsetin), which is how Bots reports characters a partner must not send.
"""

import codecs
import string

# level A: upper case letters, digits, space and these punctuation marks; plus CR/LF between segments
UNOA = string.ascii_uppercase + string.digits + " .,-()/='+:?!\"%&*;<>" + "\r\n"
# level B: level A plus lower case letters and the other printable ASCII characters, and the
# information separators IS1, IS3, IS4 that UNOB interchanges may use as separators
UNOB = UNOA + string.ascii_lowercase + "#@[]{}\\|~^`_$" + "\x1c\x1d\x1f"

_UNDEFINED = "\ufffe"  # charmap codecs treat this as 'no mapping'


def codec_info(name: str, repertoire: str) -> codecs.CodecInfo:
    decoding_table = "".join(chr(i) if chr(i) in repertoire else _UNDEFINED for i in range(256))
    encoding_table = codecs.charmap_build(decoding_table)

    def encode(text, errors="strict"):
        return codecs.charmap_encode(text, errors, encoding_table)

    def decode(data, errors="strict"):
        return codecs.charmap_decode(data, errors, decoding_table)

    class IncrementalEncoder(codecs.IncrementalEncoder):
        def encode(self, text, final=False):
            return codecs.charmap_encode(text, self.errors, encoding_table)[0]

    class IncrementalDecoder(codecs.IncrementalDecoder):
        def decode(self, data, final=False):
            return codecs.charmap_decode(data, self.errors, decoding_table)[0]

    class StreamWriter(codecs.StreamWriter):
        def encode(self, text, errors="strict"):
            return codecs.charmap_encode(text, errors, encoding_table)

    class StreamReader(codecs.StreamReader):
        def decode(self, data, errors="strict"):
            return codecs.charmap_decode(data, errors, decoding_table)

    return codecs.CodecInfo(
        name=name,
        encode=encode,
        decode=decode,
        incrementalencoder=IncrementalEncoder,
        incrementaldecoder=IncrementalDecoder,
        streamwriter=StreamWriter,
        streamreader=StreamReader,
    )
