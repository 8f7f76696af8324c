package io.github.pulsaroutbox.receiving;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonGetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import org.apache.pulsar.client.api.MessageId;
import org.axonframework.eventhandling.TrackingToken;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * How far a tracking processor has read Pulsar topics: per topic partition (the partition's topic name, or the topic's
 * for a topic without partitions), the id of the last message read. A partition it does not name is read from its
 * earliest message.
 * <p>
 * Guarantees: immutable; {@link #covers} holds when this token is at or past the other in every partition the other
 * names; serialized by Axon's serializers (Jackson, XStream) as a map of partition name to the message id in Base64.
 */
public final class PulsarTrackingToken implements TrackingToken, Serializable {

    private static final long serialVersionUID = 1L;

    private final TreeMap<String, String> positions;

    /** A token at the given positions (message ids in Base64, as {@link #getPositions()} gives them). */
    @JsonCreator
    public PulsarTrackingToken(@JsonProperty("positions") Map<String, String> positions) {
        this.positions = new TreeMap<>(positions == null ? Map.of() : positions);
    }

    /** A token that has read nothing: every partition from its earliest message. */
    public static PulsarTrackingToken start() {
        return new PulsarTrackingToken(Map.of());
    }

    /** Per partition, the last message id read, in Base64. */
    @JsonGetter("positions")
    public Map<String, String> getPositions() {
        return Collections.unmodifiableMap(positions);
    }

    /** The last message read from {@code partition}, if any. */
    public Optional<MessageId> position(String partition) {
        String encoded = positions.get(partition);
        return encoded == null ? Optional.empty() : Optional.of(decode(encoded));
    }

    /** This token with {@code partition} read up to {@code messageId}. */
    public PulsarTrackingToken advancedTo(String partition, MessageId messageId) {
        TreeMap<String, String> next = new TreeMap<>(positions);
        next.put(partition, Base64.getEncoder().encodeToString(messageId.toByteArray()));
        return new PulsarTrackingToken(next);
    }

    @Override
    public TrackingToken lowerBound(TrackingToken other) {
        PulsarTrackingToken that = cast(other);
        TreeMap<String, String> lower = new TreeMap<>();
        positions.forEach((partition, encoded) -> {
            String theirs = that.positions.get(partition);
            if (theirs != null) { // a partition one of them has not read stays unread
                lower.put(partition, compare(encoded, theirs) <= 0 ? encoded : theirs);
            }
        });
        return new PulsarTrackingToken(lower);
    }

    @Override
    public TrackingToken upperBound(TrackingToken other) {
        PulsarTrackingToken that = cast(other);
        TreeMap<String, String> upper = new TreeMap<>(positions);
        that.positions.forEach((partition, theirs) -> upper.merge(
                partition, theirs, (mine, other2) -> compare(mine, other2) >= 0 ? mine : other2));
        return new PulsarTrackingToken(upper);
    }

    @Override
    public boolean covers(TrackingToken other) {
        if (other == null) {
            return true;
        }
        PulsarTrackingToken that = cast(other);
        for (Map.Entry<String, String> theirs : that.positions.entrySet()) {
            String mine = positions.get(theirs.getKey());
            if (mine == null || compare(mine, theirs.getValue()) < 0) {
                return false;
            }
        }
        return true;
    }

    private static PulsarTrackingToken cast(TrackingToken other) {
        if (other instanceof PulsarTrackingToken token) {
            return token;
        }
        throw new IllegalArgumentException("Not a PulsarTrackingToken: " + other);
    }

    private static int compare(String left, String right) {
        return decode(left).compareTo(decode(right));
    }

    private static MessageId decode(String encoded) {
        try {
            return MessageId.fromByteArray(Base64.getDecoder().decode(encoded));
        } catch (IOException e) {
            throw new UncheckedIOException("Not a Pulsar message id: " + encoded, e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PulsarTrackingToken that && positions.equals(that.positions);
    }

    @Override
    public int hashCode() {
        return Objects.hash(positions);
    }

    @Override
    public String toString() {
        TreeMap<String, String> readable = new TreeMap<>();
        positions.forEach((partition, encoded) -> readable.put(partition, String.valueOf(decode(encoded))));
        return "PulsarTrackingToken" + readable;
    }
}
