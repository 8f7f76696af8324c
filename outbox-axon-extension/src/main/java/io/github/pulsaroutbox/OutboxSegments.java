package io.github.pulsaroutbox;

import java.nio.charset.StandardCharsets;

/**
 * How the outbox is split into segments: a row's segment is the Murmur3 (32-bit, seed 0) hash of its aggregate
 * identifier's UTF-8 bytes, made non-negative, modulo the segment count. It is computed once, at capture, and stored
 * on the row.
 * <p>
 * Guarantees: all rows of an aggregate are in one segment (for a given segment count), and the hash is the one
 * Pulsar's clients use to route a key to a partition ({@code HashingScheme.Murmur3_32Hash}): with as many segments as
 * a topic has partitions, segment {@code n} holds exactly the keys of partition {@code n}.
 */
public final class OutboxSegments {

    /** The default number of segments. */
    public static final int DEFAULT_COUNT = 16;
    /** The largest number of segments supported. */
    public static final int MAX_COUNT = 100;

    private OutboxSegments() {
    }

    /** The segment of {@code aggregateId} among {@code segmentCount} segments. */
    public static int of(String aggregateId, int segmentCount) {
        if (segmentCount < 1 || segmentCount > MAX_COUNT) {
            throw new IllegalArgumentException("segmentCount must be between 1 and " + MAX_COUNT);
        }
        return hash(aggregateId) % segmentCount;
    }

    /** Murmur3 x86 32-bit (seed 0) of the key's UTF-8 bytes, non-negative, as Pulsar routes keys to partitions. */
    public static int hash(String key) {
        byte[] data = key.getBytes(StandardCharsets.UTF_8);
        int h = 0;
        int i = 0;
        for (; i + 4 <= data.length; i += 4) {
            int k = (data[i] & 0xff) | (data[i + 1] & 0xff) << 8 | (data[i + 2] & 0xff) << 16 | data[i + 3] << 24;
            h ^= mix(k);
            h = Integer.rotateLeft(h, 13) * 5 + 0xe6546b64;
        }
        int k = 0;
        switch (data.length & 3) {
            case 3:
                k ^= (data[i + 2] & 0xff) << 16;
            case 2: // fall through
                k ^= (data[i + 1] & 0xff) << 8;
            case 1: // fall through
                k ^= data[i] & 0xff;
                h ^= mix(k);
            default:
        }
        h ^= data.length;
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h & Integer.MAX_VALUE;
    }

    private static int mix(int k) {
        return Integer.rotateLeft(k * 0xcc9e2d51, 15) * 0x1b873593;
    }
}
