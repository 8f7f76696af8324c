package io.github.pulsaroutbox.receiving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import org.apache.pulsar.client.api.Message;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.serialization.SimpleSerializedType;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.serialization.upcasting.event.IntermediateEventRepresentation;
import org.axonframework.serialization.upcasting.event.SingleEventUpcaster;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

class OutboxMessageConverterTest {

    /** The receiving service's current class (revision 2 renamed {@code sum} to {@code amount}). */
    record Deposited(String account, long amount) {
    }

    private static Message<byte[]> message(Map<String, String> properties, String payload) {
        @SuppressWarnings("unchecked")
        Message<byte[]> message = mock(Message.class);
        when(message.getValue()).thenReturn(payload.getBytes(StandardCharsets.UTF_8));
        when(message.getKey()).thenReturn(properties.get(OutboxMessageProperties.AGGREGATE_ID));
        when(message.getPublishTime()).thenReturn(1_000L);
        properties.forEach((name, value) -> {
            when(message.hasProperty(name)).thenReturn(true);
            when(message.getProperty(name)).thenReturn(value);
        });
        return message;
    }

    private static Map<String, String> outboxProperties(String version) {
        Map<String, String> properties = new HashMap<>();
        properties.put(OutboxMessageProperties.ID, "event-1");
        properties.put(OutboxMessageProperties.TYPE, "Deposited");
        properties.put(OutboxMessageProperties.TIME, "2026-12-06T10:15:30.123456Z");
        properties.put(OutboxMessageProperties.SCHEMA_VERSION, version);
        properties.put(OutboxMessageProperties.AGGREGATE_TYPE, "Account");
        properties.put(OutboxMessageProperties.AGGREGATE_ID, "a-1");
        properties.put(OutboxMessageProperties.AGGREGATE_SEQUENCE, "7");
        properties.put(OutboxMessageProperties.CORRELATION_ID, "corr-1");
        properties.put(OutboxMessageProperties.CAUSATION_ID, "cause-1");
        properties.put(OutboxMessageProperties.TRACE_PARENT, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        return properties;
    }

    private static OutboxMessageConverter.Builder converter() {
        return OutboxMessageConverter.builder().serializer(JacksonSerializer.defaultSerializer()).types(Deposited.class);
    }

    @Nested
    class Converting {

        @Test
        void restoresTheEventWithItsIdentityAggregateAndMetadata() {
            DomainEventMessage<?> event = converter().build()
                                                     .convert(message(outboxProperties("0"),
                                                                      "{\"account\":\"a-1\",\"amount\":5}"))
                                                     .orElseThrow();
            assertThat(event.getIdentifier()).isEqualTo("event-1");
            assertThat(event.getPayload()).isEqualTo(new Deposited("a-1", 5));
            assertThat(event.getType()).isEqualTo("Account");
            assertThat(event.getAggregateIdentifier()).isEqualTo("a-1");
            assertThat(event.getSequenceNumber()).isEqualTo(7);
            assertThat(event.getTimestamp()).as("to the millisecond, as Axon keeps it").hasToString("2026-12-06T10:15:30.123Z");
            assertThat(event.getMetaData()).containsEntry("correlationId", "corr-1")
                                           .containsEntry("traceId", "cause-1")
                                           .containsKey("traceparent");
        }

        @Test
        void bringsAnOlderRevisionToTheCurrentClassThroughTheServicesUpcasters() {
            SingleEventUpcaster renameSum = new SingleEventUpcaster() {
                @Override
                protected boolean canUpcast(IntermediateEventRepresentation representation) {
                    return representation.getType().equals(new SimpleSerializedType(Deposited.class.getName(), "1"));
                }

                @Override
                protected IntermediateEventRepresentation doUpcast(IntermediateEventRepresentation representation) {
                    return representation.upcastPayload(new SimpleSerializedType(Deposited.class.getName(), "2"),
                                                        JsonNode.class, json -> {
                                ObjectNode node = (ObjectNode) json;
                                node.set("amount", node.remove("sum"));
                                return node;
                            });
                }
            };
            DomainEventMessage<?> event = converter().upcasters(renameSum).build()
                                                     .convert(message(outboxProperties("1"),
                                                                      "{\"account\":\"a-1\",\"sum\":9}"))
                                                     .orElseThrow();
            assertThat(event.getPayload()).isEqualTo(new Deposited("a-1", 9));
        }
    }

    @Nested
    class ConvertsToNothing {

        @Test
        void aMessageThisLibraryDidNotPublish() {
            assertThat(converter().build().convert(message(Map.of(), "hello"))).isEmpty();
        }

        @Test
        void aTypeNoClassIsMappedTo() {
            Map<String, String> properties = outboxProperties("0");
            properties.put(OutboxMessageProperties.TYPE, "Withdrawn");
            assertThat(converter().build().convert(message(properties, "{}"))).isEmpty();
        }
    }

    @Test
    void refusesOneTypeMappedToTwoClasses() {
        assertThatThrownBy(() -> converter().type("Deposited", String.class))
                .isInstanceOf(AxonConfigurationException.class).hasMessageContaining("Deposited");
    }
}
