package io.github.pulsaroutbox.capture;

import io.github.pulsaroutbox.Outbox;
import io.github.pulsaroutbox.OutboxEntry;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.messaging.MetaData;
import org.axonframework.serialization.Revision;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.json.JacksonSerializer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventEntriesTest {

    @Revision("2")
    record Placed(String order, int amount) {
    }

    record Unrevised(String order) {
    }

    @Outbox.Exclude
    record Internal(String order) {
    }

    private final Serializer serializer = JacksonSerializer.defaultSerializer();

    private static <T> GenericDomainEventMessage<T> event(T payload) {
        return new GenericDomainEventMessage<>("Order", "o-1", 3, payload, MetaData.with("tenant", "t1"));
    }

    @Nested
    class Of {

        @Test
        void serializesPayloadAndMetadataToJsonWithTheRevisionAsVersion() {
            OutboxEntry entry = EventEntries.of(event(new Placed("o-1", 7)), serializer, null);

            assertThat(entry.payload()).isEqualTo("{\"order\":\"o-1\",\"amount\":7}");
            assertThat(entry.metadata()).isEqualTo("{\"tenant\":\"t1\"}");
            assertThat(entry.version()).isEqualTo("2");
            assertThat(entry.eventType()).isEqualTo(Placed.class.getName());
            assertThat(entry.aggregateType()).isEqualTo("Order");
            assertThat(entry.aggregateId()).isEqualTo("o-1");
            assertThat(entry.aggregateSequence()).isEqualTo(3);
        }

        @Test
        void aPayloadWithoutRevisionGetsNoRevisionAsVersion() {
            assertThat(EventEntries.of(event(new Unrevised("o-1")), serializer, null).version())
                    .isEqualTo(OutboxEntry.NO_REVISION);
        }

        @Test
        void keepsAValidTraceParentAndDropsAnInvalidOne() {
            String valid = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
            assertThat(EventEntries.of(event(new Placed("o-1", 7)), serializer, valid).traceParent())
                    .isEqualTo(valid);
            assertThat(EventEntries.of(event(new Placed("o-1", 7)), serializer, "not-a-traceparent").traceParent())
                    .isNull();
        }

        @Test
        void anUnserializablePayloadFailsTheConversion() {
            Object selfReferencing = new Object() {
                @SuppressWarnings("unused")
                public Object getSelf() {
                    return this;
                }
            };

            assertThatThrownBy(() -> EventEntries.of(event(selfReferencing), serializer, null))
                    .isInstanceOf(RuntimeException.class);
        }
    }

    @Test
    void anEventClassMarkedExcludedIsExcluded() {
        assertThat(EventEntries.isExcluded(event(new Internal("o-1")))).isTrue();
        assertThat(EventEntries.isExcluded(event(new Placed("o-1", 7)))).isFalse();
    }
}
