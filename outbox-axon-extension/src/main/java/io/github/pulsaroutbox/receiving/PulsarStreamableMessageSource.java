package io.github.pulsaroutbox.receiving;

import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Reader;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.TopicMessageId;
import org.axonframework.common.stream.BlockingStream;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.messaging.StreamableMessageSource;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.axonframework.common.BuilderUtils.assertThat;


/**
 * Pulsar topics as an Axon {@link StreamableMessageSource}, for tracking and pooled streaming processors: they read
 * the topics as they read an event store, with a {@link PulsarTrackingToken} (per partition, the last message read)
 * kept in the processor's token store. No subscription state on the broker is needed: readers start after the
 * token's positions.
 * <p>
 * Guarantees: per aggregate (the message key picks the partition) events come in the order the broker stored them;
 * a processor resumes after the last token it stored (events after it may come again after a crash: at least once,
 * pair handlers with an {@code InboxInterceptor} for once); resetting the processor's tokens replays the topics from
 * their earliest retained message; segments split the work across the service's replicas through the token store,
 * by Axon's sequencing policy (per aggregate by default). Messages that are not events of this library are skipped,
 * advancing the token. Partitions added to a topic while a stream is open are read from their earliest message once
 * the stream's next partition check (every {@code partitionCheckInterval}) finds them.
 */
public final class PulsarStreamableMessageSource implements StreamableMessageSource<TrackedEventMessage<?>> {

    private final PulsarClient client;
    private final List<String> topics;
    private final OutboxMessageConverter converter;
    private final Duration partitionCheckInterval;

    private PulsarStreamableMessageSource(Builder builder) {
        builder.validate();
        this.client = builder.client;
        this.topics = List.copyOf(builder.topics);
        this.converter = builder.converter;
        this.partitionCheckInterval = builder.partitionCheckInterval;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * A stream of the topics' events after {@code trackingToken}'s positions ({@code null}: from the earliest).
     *
     * @throws IllegalArgumentException when the token is not a {@link PulsarTrackingToken}
     * @throws IllegalStateException    when the partitions cannot be looked up or a reader not created
     */
    @Override
    public BlockingStream<TrackedEventMessage<?>> openStream(TrackingToken trackingToken) {
        PulsarTrackingToken token = from(trackingToken);
        Map<String, Reader<byte[]>> readers = new LinkedHashMap<>();
        try {
            for (String partition : partitions()) {
                readers.put(partition, client.newReader(Schema.BYTES)
                                             .topic(partition)
                                             .startMessageId(token.position(partition).orElse(MessageId.earliest))
                                             .create());
            }
        } catch (PulsarClientException e) {
            readers.values().forEach(Reader::closeAsync);
            throw new IllegalStateException("Cannot read " + topics, e);
        }
        PartitionWatch watch = new PartitionWatch(this::partitionsAsync, this::readFromEarliest,
                                                  partitionCheckInterval.toNanos(), System::nanoTime);
        return new PulsarEventStream(readers, converter, token, watch);
    }

    private Reader<byte[]> readFromEarliest(String partition) {
        try {
            return client.newReader(Schema.BYTES).topic(partition).startMessageId(MessageId.earliest).create();
        } catch (PulsarClientException e) {
            throw new IllegalStateException("Cannot read the new partition " + partition, e);
        }
    }

    /** The partitions of the topics, looked up without blocking. */
    private CompletableFuture<List<String>> partitionsAsync() {
        List<CompletableFuture<List<String>>> lookups = topics.stream().map(client::getPartitionsForTopic).toList();
        return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new))
                                .thenApply(done -> lookups.stream().flatMap(l -> l.join().stream()).toList());
    }

    /** The token of the topics' last stored messages: a processor starting there reads only what comes later. */
    @Override
    public TrackingToken createHeadToken() {
        PulsarTrackingToken head = PulsarTrackingToken.start();
        for (String partition : partitions()) {
            try (Reader<byte[]> reader = client.newReader(Schema.BYTES).topic(partition)
                                               .startMessageId(MessageId.earliest).create()) {
                if (!reader.hasMessageAvailable()) {
                    continue; // an empty partition: read from its start
                }
                for (TopicMessageId last : reader.getLastMessageIds()) {
                    head = head.advancedTo(partition, last);
                }
            } catch (java.io.IOException e) {
                throw new IllegalStateException("Cannot read the last message of " + partition, e);
            }
        }
        return head;
    }

    /**
     * The token from which a processor reads, in every partition, the messages published at or after
     * {@code dateTime} (the producer's publish time, which the outbox sets when it sends): per partition the position
     * just before the first such message, the partition's last message when none is that recent, nothing (read from
     * the earliest) for an empty partition.
     *
     * @throws IllegalStateException when the partitions cannot be looked up or read
     */
    @Override
    public TrackingToken createTokenAt(Instant dateTime) {
        PulsarTrackingToken token = PulsarTrackingToken.start();
        for (String partition : partitions()) {
            try (Reader<byte[]> reader = client.newReader(Schema.BYTES).topic(partition)
                                               .startMessageId(MessageId.earliest).create()) {
                reader.seek(dateTime.toEpochMilli());
                if (reader.hasMessageAvailable()) {
                    Message<byte[]> first = reader.readNext(30, TimeUnit.SECONDS);
                    if (first == null) {
                        throw new IllegalStateException("No message read from " + partition + " at " + dateTime);
                    }
                    Optional<MessageId> before = lastBefore(partition, first.getMessageId());
                    if (before.isPresent()) {
                        token = token.advancedTo(partition, before.get());
                    }
                } else {
                    for (TopicMessageId last : reader.getLastMessageIds()) {
                        if (MessagePositions.stored(last)) {
                            token = token.advancedTo(partition, last);
                        }
                    }
                }
            } catch (java.io.IOException e) {
                throw new IllegalStateException("Cannot read " + partition + " at " + dateTime, e);
            }
        }
        return token;
    }

    /**
     * The id of the message stored just before {@code messageId} in {@code partition} (a position a reader starts
     * after to read {@code messageId} next): read from the previous entry on, as the messages of a batch have ids the
     * client's filter needs exactly. When nothing is read before it (the previous entry was removed or holds no
     * message), that entry's id, which a reader starts after as well.
     */
    private Optional<MessageId> lastBefore(String partition, MessageId messageId) {
        Optional<MessageId> entryBefore = MessagePositions.previousEntry(messageId);
        if (entryBefore.isEmpty() || !MessagePositions.stored(entryBefore.get())) {
            return entryBefore; // the first entry of its ledger: the ledger's start
        }
        MessageId last = entryBefore.get();
        try (Reader<byte[]> reader = client.newReader(Schema.BYTES).topic(partition).startMessageId(last)
                                           .startMessageIdInclusive().create()) {
            while (true) {
                Message<byte[]> next = reader.readNext(30, TimeUnit.SECONDS);
                if (next == null) {
                    throw new IllegalStateException("Cannot read " + partition + " up to " + messageId);
                }
                if (next.getMessageId().compareTo(messageId) >= 0) {
                    return Optional.of(last);
                }
                last = next.getMessageId();
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("Cannot read " + partition + " up to " + messageId, e);
        }
    }

    /** The start of the topics: their earliest retained messages. */
    @Override
    public TrackingToken createTailToken() {
        return PulsarTrackingToken.start();
    }

    private static PulsarTrackingToken from(TrackingToken token) {
        if (token == null) {
            return PulsarTrackingToken.start();
        }
        if (token instanceof PulsarTrackingToken pulsar) {
            return pulsar;
        }
        throw new IllegalArgumentException("A Pulsar source reads from a PulsarTrackingToken, not " + token);
    }

    /** The partitions of the topics (a topic without partitions is its own). */
    private List<String> partitions() {
        List<String> partitions = new ArrayList<>();
        for (String topic : topics) {
            try {
                partitions.addAll(client.getPartitionsForTopic(topic).get(30, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted looking up the partitions of " + topic, e);
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("Cannot look up the partitions of " + topic, e);
            }
        }
        return partitions;
    }

    /** Builds a {@link PulsarStreamableMessageSource}. Required: the client, at least one topic, the converter. */
    public static final class Builder extends SourceBuilder<Builder> {

        private Duration partitionCheckInterval = Duration.ofSeconds(30);

        private Builder() {
        }

        /**
         * How often an open stream looks for partitions added to its topics (default 30 s), and then reads them from
         * their earliest message.
         */
        public Builder partitionCheckInterval(Duration interval) {
            assertThat(interval, i -> i != null && !i.isNegative() && !i.isZero(),
                       "The partition check interval must be positive");
            this.partitionCheckInterval = interval;
            return this;
        }

        public PulsarStreamableMessageSource build() {
            return new PulsarStreamableMessageSource(this);
        }
    }
}
