package io.github.pulsaroutbox.receiving;

import org.apache.pulsar.client.api.MessageId;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;

/**
 * The entry before a message's entry, where a search for the message's predecessor starts: the previous entry of the
 * same ledger ({@code entry - 1}; for the ledger's first entry {@code -1}, the ledger's start, from which the broker
 * moves on to the next valid entry); for a chunked message, the entry before its first chunk. As a reader's
 * (exclusive) start, such an id skips only a message stored alone in that entry: the messages of a batch in it are
 * read, so the predecessor itself is found by reading (see {@code PulsarStreamableMessageSource#createTokenAt}).
 * <p>
 * Works on the id's portable form ({@link MessageId#toByteArray()}, Pulsar's {@code MessageIdData}: ledger 1, entry 2,
 * partition 3, batch index 4, batch size 6, first chunk 7), so that only the client's API is needed.
 */
final class MessagePositions {

    private MessagePositions() {
    }

    /** The entry before {@code messageId}'s entry; empty for an id without ledger coordinates. */
    static Optional<MessageId> previousEntry(MessageId messageId) {
        IdData id = IdData.parse(messageId.toByteArray());
        if (id.firstChunk != null) {
            id = id.firstChunk;
        }
        if (id.ledger < 0 || id.entry < 0) {
            return Optional.empty();
        }
        IdData before = new IdData(id.ledger, id.entry - 1, id.partition);
        try {
            return Optional.of(MessageId.fromByteArray(before.encode()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether {@code messageId} names a stored message (not an empty partition's "nothing yet"). */
    static boolean stored(MessageId messageId) {
        long[] ledgerEntry = ledgerEntry(messageId);
        return ledgerEntry[0] >= 0 && ledgerEntry[1] >= 0;
    }

    /** The ledger and entry of {@code messageId} (negative when it names none). */
    static long[] ledgerEntry(MessageId messageId) {
        IdData id = IdData.parse(messageId.toByteArray());
        return new long[]{id.ledger, id.entry};
    }

    /** The fields of a {@code MessageIdData} this class reads and writes. */
    private static final class IdData {
        long ledger = -1;
        long entry = -1;
        int partition = -1;
        IdData firstChunk;

        IdData() {
        }

        IdData(long ledger, long entry, int partition) {
            this.ledger = ledger;
            this.entry = entry;
            this.partition = partition;
        }

        static IdData parse(byte[] bytes) {
            IdData id = new IdData();
            int[] at = {0};
            while (at[0] < bytes.length) {
                long key = varint(bytes, at);
                int field = (int) (key >>> 3);
                int wire = (int) (key & 7);
                if (wire == 0) {
                    long value = varint(bytes, at);
                    switch (field) {
                        case 1 -> id.ledger = value;
                        case 2 -> id.entry = value;
                        case 3 -> id.partition = (int) value;
                        default -> { } // the batch index and size, the ack set, fields of later versions
                    }
                } else if (wire == 2) {
                    int length = (int) varint(bytes, at);
                    if (field == 7) {
                        byte[] nested = new byte[length];
                        System.arraycopy(bytes, at[0], nested, 0, length);
                        id.firstChunk = parse(nested);
                    }
                    at[0] += length;
                } else if (wire == 1) {
                    at[0] += 8;
                } else if (wire == 5) {
                    at[0] += 4;
                } else {
                    throw new IllegalArgumentException("Not a Pulsar message id (wire type " + wire + ")");
                }
            }
            return id;
        }

        byte[] encode() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            field(out, 1, ledger);
            field(out, 2, entry);
            field(out, 3, partition);
            return out.toByteArray();
        }

        private static void field(ByteArrayOutputStream out, int number, long value) {
            writeVarint(out, (long) number << 3);
            writeVarint(out, value);
        }

        private static void writeVarint(ByteArrayOutputStream out, long value) {
            while ((value & ~0x7FL) != 0) {
                out.write((int) ((value & 0x7F) | 0x80));
                value >>>= 7;
            }
            out.write((int) value);
        }

        private static long varint(byte[] bytes, int[] at) {
            long value = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (at[0] >= bytes.length) {
                    throw new IllegalArgumentException("Not a Pulsar message id (truncated)");
                }
                byte b = bytes[at[0]++];
                value |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    return value;
                }
            }
            throw new IllegalArgumentException("Not a Pulsar message id (varint too long)");
        }
    }
}
