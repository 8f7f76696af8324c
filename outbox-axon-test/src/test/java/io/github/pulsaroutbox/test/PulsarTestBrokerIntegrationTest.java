package io.github.pulsaroutbox.test;

import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The JUnit extension hands out a running broker's URLs; OutboxTopic reads what reached a topic. */
@ExtendWith(PulsarTestBroker.class)
class PulsarTestBrokerIntegrationTest {

    private final String topic = "persistent://public/default/test-kit-" + UUID.randomUUID();

    private static void send(PulsarClient client, String topic, String key, long sequence, String type)
            throws Exception {
        try (Producer<byte[]> producer = client.newProducer(Schema.BYTES).topic(topic).create()) {
            producer.newMessage().key(key).value(("{\"n\":" + sequence + "}").getBytes(StandardCharsets.UTF_8))
                    .properties(Map.of("ce_id", key + "-" + sequence, "ce_type", type,
                                       "ce_aggregatesequence", Long.toString(sequence)))
                    .send();
        }
    }

    @Nested
    class Extension {

        @Test
        void aTestMethodGetsTheUrlsOfARunningBroker(PulsarTestBroker.Urls broker) throws Exception {
            assertThat(broker.serviceUrl()).startsWith("pulsar://");
            assertThat(broker.adminUrl()).startsWith("http://");
            try (PulsarClient client = PulsarClient.builder().serviceUrl(broker.serviceUrl()).build()) {
                send(client, topic, "order-1", 0, "OrderPlaced");
            }
        }
    }

    @Nested
    class ReadingATopic {

        @Test
        void theEventsOfOneAggregateInTheOrderStoredWithTheirProperties(PulsarTestBroker.Urls broker)
                throws Exception {
            try (PulsarClient client = PulsarClient.builder().serviceUrl(broker.serviceUrl()).build()) {
                send(client, topic, "order-1", 0, "OrderPlaced");
                send(client, topic, "order-2", 0, "OrderPlaced");
                send(client, topic, "order-1", 1, "LineAdded");

                List<OutboxTopic.Event> events = OutboxTopic.of(client, topic)
                                                            .awaitEventsOf("order-1", 2, Duration.ofSeconds(30));

                assertThat(events).extracting(OutboxTopic.Event::type).containsExactly("OrderPlaced", "LineAdded");
                assertThat(events).extracting(OutboxTopic.Event::sequence).containsExactly(0L, 1L);
                assertThat(events.get(1).id()).isEqualTo("order-1-1");
                assertThat(events.get(1).payload()).isEqualTo("{\"n\":1}");
            }
        }

        @Test
        void tooFewEventsFailNamingThoseThatArrived(PulsarTestBroker.Urls broker) throws Exception {
            try (PulsarClient client = PulsarClient.builder().serviceUrl(broker.serviceUrl()).build()) {
                send(client, topic, "order-1", 0, "OrderPlaced");

                assertThatThrownBy(() -> OutboxTopic.of(client, topic)
                                                    .awaitEventsOf("order-1", 2, Duration.ofSeconds(2)))
                        .isInstanceOf(AssertionError.class)
                        .hasMessageContaining("Expected 2 event(s) of order-1")
                        .hasMessageContaining("got 1")
                        .hasMessageContaining("OrderPlaced");
            }
        }
    }
}
