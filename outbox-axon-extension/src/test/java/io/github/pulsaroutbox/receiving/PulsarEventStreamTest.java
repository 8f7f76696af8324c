package io.github.pulsaroutbox.receiving;

import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Reader;
import org.apache.pulsar.client.impl.MessageIdImpl;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

class PulsarEventStreamTest {

    private static Message<byte[]> message(long entry, String account, long sequence, boolean outbox) {
        @SuppressWarnings("unchecked")
        Message<byte[]> message = mock(Message.class);
        MessageId id = new MessageIdImpl(1, entry, -1);
        when(message.getMessageId()).thenReturn(id);
        when(message.getKey()).thenReturn(account);
        when(message.getValue()).thenReturn(("{\"account\":\"" + account + "\",\"amount\":1}")
                                                    .getBytes(StandardCharsets.UTF_8));
        if (outbox) {
            Map<String, String> properties = Map.of(OutboxMessageProperties.ID, account + "-" + sequence,
                                                    OutboxMessageProperties.TYPE, "Deposited",
                                                    OutboxMessageProperties.AGGREGATE_TYPE, "Account",
                                                    OutboxMessageProperties.AGGREGATE_ID, account,
                                                    OutboxMessageProperties.AGGREGATE_SEQUENCE, Long.toString(sequence),
                                                    OutboxMessageProperties.SCHEMA_VERSION, "0",
                                                    OutboxMessageProperties.TIME, "2026-12-06T10:00:00Z");
            properties.forEach((name, value) -> {
                when(message.hasProperty(name)).thenReturn(true);
                when(message.getProperty(name)).thenReturn(value);
            });
        }
        return message;
    }

    @SuppressWarnings("unchecked")
    private static Reader<byte[]> reader(Message<byte[]>... messages) {
        Reader<byte[]> reader = mock(Reader.class);
        CompletableFuture<Message<byte[]>>[] futures = new CompletableFuture[messages.length + 1];
        for (int i = 0; i < messages.length; i++) {
            futures[i] = CompletableFuture.completedFuture(messages[i]);
        }
        futures[messages.length] = new CompletableFuture<>(); // nothing more arrives
        when(reader.readNextAsync()).thenReturn(futures[0], java.util.Arrays.copyOfRange(futures, 1, futures.length));
        return reader;
    }

    @Test
    void mergesThePartitionsInTheirOwnOrderEachEventCarryingEverythingReadSoFar() throws Exception {
        Map<String, Reader<byte[]>> readers = new LinkedHashMap<>();
        readers.put("p0", reader(message(1, "a", 0, true), message(2, "a", 1, true)));
        readers.put("p1", reader(message(7, "b", 0, true), message(8, "foreign", 0, false),
                                 message(9, "b", 1, true)));
        PulsarEventStream stream = new PulsarEventStream(readers, Deposits.converter(), PulsarTrackingToken.start());

        Map<String, Long> lastSequence = new LinkedHashMap<>();
        PulsarTrackingToken previous = PulsarTrackingToken.start();
        int events = 0;
        while (stream.hasNextAvailable(100, TimeUnit.MILLISECONDS)) {
            TrackedEventMessage<?> event = stream.nextAvailable();
            DomainEventMessage<?> domain = (DomainEventMessage<?>) event;
            long last = lastSequence.getOrDefault(domain.getAggregateIdentifier(), -1L);
            assertThat(domain.getSequenceNumber()).as("per aggregate in order").isEqualTo(last + 1);
            lastSequence.put(domain.getAggregateIdentifier(), domain.getSequenceNumber());
            assertThat(event.trackingToken().covers(previous)).as("tokens only move forward").isTrue();
            previous = (PulsarTrackingToken) event.trackingToken();
            events++;
        }
        assertThat(events).as("the foreign message is skipped").isEqualTo(4);
        assertThat(previous.position("p0")).hasValue(new MessageIdImpl(1, 2, -1));
        assertThat(previous.position("p1")).hasValue(new MessageIdImpl(1, 9, -1));
        stream.close();
    }

    @Test
    void readsAPartitionAddedWhileItIsOpenOnceItsWatchFindsIt() throws Exception {
        Map<String, Reader<byte[]>> readers = new LinkedHashMap<>();
        readers.put("p0", reader(message(1, "a", 0, true)));
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
        PartitionWatch watch = new PartitionWatch(() -> CompletableFuture.completedFuture(java.util.List.of("p0", "p1")),
                                                  partition -> reader(message(5, "b", 0, true)), 1000, now::get);
        PulsarEventStream stream = new PulsarEventStream(readers, Deposits.converter(), PulsarTrackingToken.start(),
                                                         watch);

        assertThat(stream.hasNextAvailable(50, TimeUnit.MILLISECONDS)).isTrue();
        assertThat(((DomainEventMessage<?>) stream.nextAvailable()).getAggregateIdentifier()).isEqualTo("a");
        assertThat(stream.hasNextAvailable(50, TimeUnit.MILLISECONDS)).as("p1 not looked up yet").isFalse();

        now.set(1000);
        assertThat(stream.hasNextAvailable(1, TimeUnit.SECONDS)).isTrue();
        TrackedEventMessage<?> added = stream.nextAvailable();
        assertThat(((DomainEventMessage<?>) added).getAggregateIdentifier()).isEqualTo("b");
        assertThat(((PulsarTrackingToken) added.trackingToken()).position("p1")).hasValue(new MessageIdImpl(1, 5, -1));
        stream.close();
    }
}
