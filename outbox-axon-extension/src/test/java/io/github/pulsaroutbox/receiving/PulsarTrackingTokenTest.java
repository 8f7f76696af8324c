package io.github.pulsaroutbox.receiving;

import org.apache.pulsar.client.api.MessageId;
import org.axonframework.eventhandling.GlobalSequenceTrackingToken;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.serialization.SerializedObject;
import org.axonframework.serialization.json.JacksonSerializer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PulsarTrackingTokenTest {

    /** A message id of ledger 1 at {@code entry}. */
    private static MessageId id(long entry) {
        return new org.apache.pulsar.client.impl.MessageIdImpl(1, entry, -1);
    }

    private static final PulsarTrackingToken EARLY =
            PulsarTrackingToken.start().advancedTo("p0", id(5)).advancedTo("p1", id(9));
    private static final PulsarTrackingToken LATE =
            PulsarTrackingToken.start().advancedTo("p0", id(7)).advancedTo("p1", id(8));

    @Nested
    class Ordering {

        @Test
        void coversWhatItIsAtOrPastInEveryPartition() {
            PulsarTrackingToken later = EARLY.advancedTo("p0", id(6));
            assertThat(later.covers(EARLY)).isTrue();
            assertThat(EARLY.covers(later)).isFalse();
            assertThat(EARLY.covers(EARLY)).isTrue();
            assertThat(EARLY.covers(null)).isTrue();
            assertThat(EARLY.covers(LATE)).as("behind in p0").isFalse();
            assertThat(PulsarTrackingToken.start().covers(EARLY)).isFalse();
            assertThat(EARLY.covers(PulsarTrackingToken.start())).isTrue();
        }

        @Test
        void boundsTakeTheLowerAndTheHigherPositionPerPartition() {
            TrackingToken lower = EARLY.lowerBound(LATE);
            TrackingToken upper = EARLY.upperBound(LATE);
            assertThat(lower).isEqualTo(PulsarTrackingToken.start().advancedTo("p0", id(5)).advancedTo("p1", id(8)));
            assertThat(upper).isEqualTo(PulsarTrackingToken.start().advancedTo("p0", id(7)).advancedTo("p1", id(9)));
            assertThat(EARLY.lowerBound(PulsarTrackingToken.start())).as("a partition one has not read")
                                                                    .isEqualTo(PulsarTrackingToken.start());
            assertThat(upper.covers(EARLY)).isTrue();
            assertThat(upper.covers(LATE)).isTrue();
            assertThat(EARLY.covers(lower)).isTrue();
            assertThat(LATE.covers(lower)).isTrue();
        }

        @Test
        void refusesAnotherKindOfToken() {
            assertThatThrownBy(() -> EARLY.covers(new GlobalSequenceTrackingToken(3)))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void survivesAxonsJacksonSerializer() {
        JacksonSerializer serializer = JacksonSerializer.defaultSerializer();
        SerializedObject<byte[]> stored = serializer.serialize(LATE, byte[].class);
        PulsarTrackingToken read = serializer.deserialize(stored);
        assertThat(read).isEqualTo(LATE);
        assertThat(read.position("p1")).hasValue(id(8));
    }
}
