package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.EventTypeNames;
import io.github.pulsaroutbox.OutboxEntry;
import io.micrometer.observation.ObservationRegistry;
import org.apache.pulsar.client.api.BatcherBuilder;
import org.apache.pulsar.client.api.HashingScheme;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.ProducerBuilder;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.TypedMessageBuilder;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.mockito.Answers;
import org.mockito.InOrder;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.anyMap;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/** A publisher's settings and the producers and messages built from them, against a mocked client. */
class PublisherSettingsTest {

    private final PulsarClient client = mock(PulsarClient.class);
    @SuppressWarnings("unchecked")
    private final ProducerBuilder<byte[]> producerBuilder = mock(ProducerBuilder.class, Answers.RETURNS_SELF);

    PublisherSettingsTest() {
        when(client.newProducer(Schema.BYTES)).thenReturn(producerBuilder);
    }

    private PublisherSettings settings(Consumer<ProducerBuilder<byte[]>> customizer, Map<String, String> metadata) {
        return new PublisherSettings(client, "billing", Duration.ofSeconds(20), true, Duration.ofMillis(3), 250,
                                     customizer, false, PublisherSettings::loadClass, "billing-prefix",
                                     EventTypeNames.defaults(), metadata, (entry, properties) -> { },
                                     ObservationRegistry.NOOP);
    }

    @Nested
    class Producers {

        @Test
        void areBuiltWithTheSettingsAndTheCustomizerLast() {
            Consumer<ProducerBuilder<byte[]>> customizer = builder -> builder.enableBatching(false);

            ProducerBuilder<byte[]> built = settings(customizer, Map.of()).newProducer("orders");

            assertThat(built).isSameAs(producerBuilder);
            InOrder order = inOrder(producerBuilder);
            order.verify(producerBuilder).topic("orders");
            order.verify(producerBuilder).hashingScheme(HashingScheme.Murmur3_32Hash);
            order.verify(producerBuilder).enableBatching(true);
            order.verify(producerBuilder).batcherBuilder(BatcherBuilder.KEY_BASED);
            order.verify(producerBuilder).batchingMaxPublishDelay(3_000_000L, TimeUnit.NANOSECONDS);
            order.verify(producerBuilder).blockIfQueueFull(false); // the sending thread never blocks
            order.verify(producerBuilder).maxPendingMessages(250);
            order.verify(producerBuilder).sendTimeout(20_000, TimeUnit.MILLISECONDS);
            order.verify(producerBuilder).enableBatching(false); // the customizer's word is the last
        }
    }

    @Nested
    class Messages {

        @Test
        @SuppressWarnings("unchecked")
        void carryTheSourceAndOnlyTheListedMetadata() {
            Producer<byte[]> producer = mock(Producer.class);
            TypedMessageBuilder<byte[]> message = mock(TypedMessageBuilder.class, Answers.RETURNS_SELF);
            when(message.sendAsync()).thenReturn(CompletableFuture.completedFuture(MessageId.earliest));
            when(producer.newMessage()).thenReturn(message);
            Map<String, String> sent = new HashMap<>();
            when(message.properties(anyMap())).thenAnswer(invocation -> {
                sent.putAll(invocation.getArgument(0));
                return message;
            });
            OutboxEntry entry = OutboxEntry.pending("id-1", Instant.now(), "Evt", "Order", "o-1", 0, "{}",
                                                    "{\"correlationId\":\"c-1\",\"secret\":\"s\"}", "0", null);

            settings(builder -> { }, Map.of("correlationId", OutboxMessageProperties.CORRELATION_ID))
                    .messages().send(producer, entry, "orders").join();

            verify(message).key("o-1");
            assertThat(sent).containsEntry(OutboxMessageProperties.CORRELATION_ID, "c-1")
                            .containsEntry(OutboxMessageProperties.SOURCE, "billing")
                            .doesNotContainValue("s");
        }
    }

    @Test
    void keepsACopyOfTheMetadataProperties() {
        Map<String, String> metadata = new HashMap<>(Map.of("correlationId", "ce_correlationid"));

        PublisherSettings settings = settings(builder -> { }, metadata);
        metadata.put("secret", "x-secret");

        assertThat(settings.metadataProperties()).containsOnlyKeys("correlationId");
        assertThatThrownBy(() -> settings.metadataProperties().put("k", "v"))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void loadsEventClassesByNameAndSaysWhichOneIsMissing() {
        assertThat(PublisherSettings.loadClass("java.lang.String")).isEqualTo(String.class);
        assertThatThrownBy(() -> PublisherSettings.loadClass("com.acme.Missing"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("No class com.acme.Missing");
    }
}
