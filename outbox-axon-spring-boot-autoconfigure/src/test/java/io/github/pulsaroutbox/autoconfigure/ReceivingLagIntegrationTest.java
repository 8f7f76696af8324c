package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.receiving.OutboxMessageConverter;
import io.github.pulsaroutbox.receiving.PulsarStreamableMessageSource;
import io.github.pulsaroutbox.receiving.PulsarTrackingToken;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.client.api.SubscriptionType;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.EventTrackerStatus;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.serialization.json.JacksonSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.pulsar.core.PulsarAdministration;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/**
 * The lag per partition read from the real broker's statistics: a subscribable source's subscription backlog, and a
 * streamable source's processor's segments behind the partitions' last entries.
 */
class ReceivingLagIntegrationTest {

    private final String name = "lag-" + UUID.randomUUID();
    private final String topic = "persistent://public/default/" + name;
    private final AtomicReference<TrackingToken> segmentToken = new AtomicReference<>();
    private PulsarClient client;
    private ReceivingLag lag;

    @BeforeEach
    void setUp() throws Exception {
        try (PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl(SharedPulsarBroker.adminUrl()).build()) {
            admin.topics().createPartitionedTopic(topic, 2);
        }
        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl()).build();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (lag != null) {
            lag.close();
        }
        client.close();
    }

    private void publish(int count) throws Exception {
        try (Producer<byte[]> producer = client.newProducer(Schema.BYTES).topic(topic).enableBatching(false)
                                               .create()) {
            for (int i = 0; i < count; i++) {
                producer.newMessage().key("k" + i).value(new byte[]{1}).send();
            }
        }
    }

    private long total(String source, String group) {
        return lag.lags().entrySet().stream()
                  .filter(e -> e.getKey().source().equals(source) && e.getKey().group().equals(group))
                  .mapToLong(Map.Entry::getValue).sum();
    }

    @Test
    void isTheBacklogOfASubscribableSourcesSubscriptionAndWhatAStreamableProcessorsSegmentsHaveNotRead()
            throws Exception {
        try (Consumer<byte[]> subscription = client.newConsumer(Schema.BYTES).topic(topic).subscriptionName("billing")
                                                   .subscriptionType(SubscriptionType.Key_Shared)
                                                   .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                                                   .subscribe()) {
            subscription.getLastMessageIds(); // the subscription exists; nothing acknowledged
        }
        publish(10);
        segmentToken.set(null); // a segment that has read nothing

        ReceivingProperties properties = new ReceivingProperties(Map.of(
                "payments", new ReceivingProperties.Source(List.of(name), ReceivingProperties.SourceMode.SUBSCRIBABLE,
                                                           "billing", null, Duration.ofSeconds(30)),
                "orders", new ReceivingProperties.Source(List.of(name), ReceivingProperties.SourceMode.STREAMABLE,
                                                         null, null, Duration.ofSeconds(30))),
                                                                 Map.of(), null, Duration.ofMillis(200));
        StreamingEventProcessor processor = mock(StreamingEventProcessor.class);
        EventTrackerStatus status = mock(EventTrackerStatus.class);
        when(status.getTrackingToken()).thenAnswer(invocation -> segmentToken.get());
        when(processor.processingStatus()).thenReturn(Map.of(0, status));
        EventProcessingConfiguration processing = mock(EventProcessingConfiguration.class);
        when(processing.eventProcessor("shipping", StreamingEventProcessor.class)).thenReturn(Optional.of(processor));
        StaticListableBeanFactory beans = new StaticListableBeanFactory(Map.of("processing", processing));
        lag = new ReceivingLag(properties, new ReceivingGroups(List.of("shipping"), Map.of("shipping", "orders")),
                               new PulsarAdministration(SharedPulsarBroker.adminUrl()),
                               beans.getBeanProvider(EventProcessingConfiguration.class));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        lag.bindTo(registry);

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(total("payments", "billing")).isEqualTo(10);
            assertThat(total("orders", "shipping")).isEqualTo(10);
        });
        assertThat(registry.get("pulsar.outbox.receiving.lag").tag("source", "payments")
                           .tag("partition", topic + "-partition-0").tag("group", "billing").gauge()).isNotNull();

        // the segment read everything so far; 3 more arrive
        segmentToken.set(PulsarStreamableMessageSource.builder().pulsarClient(client).topic(topic).converter(
                OutboxMessageConverter.builder().serializer(JacksonSerializer.defaultSerializer()).build()).build()
                                                      .createHeadToken());
        assertThat(((PulsarTrackingToken) segmentToken.get()).getPositions()).hasSize(2);
        publish(3);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(total("orders", "shipping")).isEqualTo(3);
            assertThat(total("payments", "billing")).isEqualTo(13);
        });
    }
}
