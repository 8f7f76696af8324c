package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.relay.OutboxPublisher.Session;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.ProducerBuilder;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The producers of the relay's segment sessions: per segment and topic one unbatched producer per partition, named
 * {@code <prefix>-<segment>} (stable, so the broker's deduplication state follows the segment across nodes and
 * restarts). A session replaces the segment's producers for the topic; closing a segment closes all of them, and a
 * later session for it waits until they are closed (the broker refuses a name another producer still holds). Keys are
 * routed to partitions with Pulsar's Murmur3 hash ({@link #partitionOf}), so that each partition's sequence ids are
 * known.
 */
final class SegmentProducers {

    private static final Logger logger = LoggerFactory.getLogger(SegmentProducers.class);

    private final PulsarClient client;
    private final Function<String, ProducerBuilder<byte[]>> newProducer;
    private final String producerNamePrefix;
    /** Per segment, its open producers by topic, one per partition. */
    private final Map<Integer, Map<String, List<Producer<byte[]>>>> open = new ConcurrentHashMap<>();
    /** Per segment, the closing of its producers, until done: a new session for it waits for it. */
    private final Map<Integer, CompletableFuture<Void>> closing = new ConcurrentHashMap<>();

    SegmentProducers(PulsarClient client, Function<String, ProducerBuilder<byte[]>> newProducer,
                     String producerNamePrefix) {
        this.client = client;
        this.newProducer = newProducer;
        this.producerNamePrefix = producerNamePrefix;
    }

    /** The open producers (one per partition) of the segment's session for the topic; {@code null} if none. */
    List<Producer<byte[]>> partitions(int segment, String topic) {
        return open.getOrDefault(segment, Map.of()).get(topic);
    }

    /**
     * Closes the segment's producers for the topic, if open, and creates new ones (one per partition) under the
     * segment's name, without blocking. Producers created after the segment was closed meanwhile are closed again, and
     * the future fails.
     */
    CompletableFuture<Session> openSession(String topic, int segment) {
        Map<String, List<Producer<byte[]>>> ofSegment = open.computeIfAbsent(segment, s -> new ConcurrentHashMap<>());
        List<Producer<byte[]>> previous;
        synchronized (ofSegment) {
            previous = ofSegment.remove(topic);
        }
        CompletableFuture<Void> closed = closeAll(previous).thenCompose(
                v -> closing.getOrDefault(segment, CompletableFuture.completedFuture(null)));
        String name = producerName(segment);
        return closed.thenCompose(v -> client.getPartitionsForTopic(topic))
                     .thenCompose(partitions -> createAll(partitions, name))
                     .thenApply(partitions -> {
                         synchronized (ofSegment) {
                             if (open.get(segment) != ofSegment) {
                                 trackClosing(segment, closeAll(partitions));
                                 throw new CompletionException(new PulsarClientException.AlreadyClosedException(
                                         "Segment " + segment + " was closed while its producer opened"));
                             }
                             trackClosing(segment, closeAll(ofSegment.put(topic, partitions)));
                         }
                         return session(topic, name, partitions);
                     });
    }

    /** One unbatched producer per partition, all created or none (the created ones are closed on a failure). */
    private CompletableFuture<List<Producer<byte[]>>> createAll(List<String> partitions, String name) {
        List<CompletableFuture<Producer<byte[]>>> created = new ArrayList<>(partitions.size());
        for (String partition : partitions) {
            // unbatched: the key-based batcher can send a later batch of a key before an earlier one, which would put
            // sequence ids out of order, and the broker drops what comes below its last id
            created.add(newProducer.apply(partition).producerName(name).enableBatching(false).createAsync());
        }
        return CompletableFuture.allOf(created.toArray(CompletableFuture[]::new))
                                .handle((v, error) -> {
                                    if (error != null) {
                                        created.stream().filter(f -> !f.isCompletedExceptionally())
                                               .forEach(f -> f.thenAccept(p -> p.closeAsync()));
                                        throw error instanceof CompletionException c ? c
                                                                                     : new CompletionException(error);
                                    }
                                    return created.stream().map(CompletableFuture::join).toList();
                                });
    }

    private static Session session(String topic, String name, List<Producer<byte[]>> partitions) {
        long[] last = partitions.stream().mapToLong(Producer::getLastSequenceId).toArray();
        long highest = Arrays.stream(last).max().orElse(-1);
        logger.debug("Opened outbox producer {} on {} ({} partition(s), last sequence ids {})", name, topic,
                     partitions.size(), Arrays.toString(last));
        return new Session() {
            @Override
            public long lastStored(String key) {
                return last[SegmentProducers.partitionOf(key, last.length)];
            }

            @Override
            public long highestStored() {
                return highest;
            }

            @Override
            public int partitionOf(String key) {
                return SegmentProducers.partitionOf(key, last.length);
            }

            @Override
            public long lastStoredIn(int partition) {
                return partition >= 0 && partition < last.length ? last[partition] : -1;
            }
        };
    }

    /** The partition Pulsar's Murmur3 key routing picks for a key (0 for a topic without partitions). */
    static int partitionOf(String key, int partitions) {
        return partitions == 1 ? 0 : OutboxSegments.hash(key) % partitions;
    }

    /**
     * Closes the segment's producers without blocking; a session opened for the segment afterwards waits until they
     * are closed, so that the broker does not refuse the name as still in use.
     */
    void closeSegment(int segment) {
        Map<String, List<Producer<byte[]>>> ofSegment = open.remove(segment);
        if (ofSegment != null) {
            List<CompletableFuture<Void>> closed = new ArrayList<>();
            synchronized (ofSegment) {
                ofSegment.values().forEach(partitions -> closed.add(closeAll(partitions)));
                ofSegment.clear();
            }
            trackClosing(segment, CompletableFuture.allOf(closed.toArray(CompletableFuture[]::new)));
        }
    }

    /** Closes the session's producers if they are still the segment's open ones for the topic. */
    void closeSession(int segment, String topic, List<Producer<byte[]>> partitions) {
        Map<String, List<Producer<byte[]>>> ofSegment = open.get(segment);
        if (ofSegment != null && ofSegment.remove(topic, partitions)) {
            trackClosing(segment, closeAll(partitions));
        }
    }

    /** Closes every segment's producers; the returned futures complete when they are closed. */
    List<CompletableFuture<?>> closeAll() {
        open.keySet().forEach(this::closeSegment);
        return new ArrayList<>(closing.values());
    }

    /**
     * Remembers that producers of the segment are closing (added to closings already running), so that its next
     * session waits for them: the broker would refuse the stable name while an old producer still holds it.
     */
    private void trackClosing(int segment, CompletableFuture<Void> closed) {
        if (closed.isDone()) {
            return;
        }
        CompletableFuture<Void> all = closing.merge(segment, closed,
                                                    (running, added) -> CompletableFuture.allOf(running, added));
        all.whenComplete((v, e) -> closing.remove(segment, all));
    }

    private static CompletableFuture<Void> closeAll(List<Producer<byte[]>> producers) {
        if (producers == null || producers.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.allOf(producers.stream().map(p -> p.closeAsync().exceptionally(e -> null))
                                                .toArray(CompletableFuture[]::new));
    }

    /** The stable producer name of a segment (unique per topic: one producer per segment and topic). */
    private String producerName(int segment) {
        return producerNamePrefix + "-" + segment;
    }
}
