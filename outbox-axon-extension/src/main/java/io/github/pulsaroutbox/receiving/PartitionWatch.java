package io.github.pulsaroutbox.receiving;

import org.apache.pulsar.client.api.Reader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Looks up a stream's partitions again every {@code interval} (without blocking the stream: the lookup runs
 * asynchronously and is taken when it is done), and opens a reader, from the partition's earliest message, on each
 * partition added to the topics since. A failed lookup is logged and tried again after the interval. Used by one
 * stream's thread.
 */
final class PartitionWatch {

    private static final Logger logger = LoggerFactory.getLogger(PartitionWatch.class);

    /** How often a lookup in flight is looked at. */
    private static final long POLL_IN_FLIGHT = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(10);

    private final Supplier<CompletableFuture<List<String>>> lookup;
    private final Function<String, Reader<byte[]>> openFromEarliest;
    private final long intervalNanos;
    private final LongSupplier nanoTime;
    private CompletableFuture<List<String>> inFlight;
    private long due;

    PartitionWatch(Supplier<CompletableFuture<List<String>>> lookup,
                   Function<String, Reader<byte[]>> openFromEarliest, long intervalNanos, LongSupplier nanoTime) {
        this.lookup = lookup;
        this.openFromEarliest = openFromEarliest;
        this.intervalNanos = intervalNanos;
        this.nanoTime = nanoTime;
        this.due = nanoTime.getAsLong() + intervalNanos;
    }

    /** How long the stream may wait for messages before it should call {@link #added} again. */
    long nanosUntilDue() {
        return inFlight != null ? POLL_IN_FLIGHT : Math.max(0, due - nanoTime.getAsLong());
    }

    /**
     * Readers on the partitions the last finished lookup found beyond {@code known}; starts a lookup when one is due.
     *
     * @throws IllegalStateException when a reader cannot be created (the stream fails: the processor opens it again)
     */
    Map<String, Reader<byte[]>> added(Set<String> known) {
        long now = nanoTime.getAsLong();
        if (inFlight == null) {
            if (now - due >= 0) {
                inFlight = lookup.get();
            }
            return Map.of();
        }
        if (!inFlight.isDone()) {
            return Map.of();
        }
        CompletableFuture<List<String>> done = inFlight;
        inFlight = null;
        due = now + intervalNanos;
        List<String> partitions;
        try {
            partitions = done.join();
        } catch (RuntimeException e) {
            logger.warn("Looking up the partitions of the source's topics failed; trying again later: {}",
                        e.toString());
            return Map.of();
        }
        Map<String, Reader<byte[]>> added = new LinkedHashMap<>();
        for (String partition : partitions) {
            if (!known.contains(partition)) {
                logger.info("Partition {} was added to the topic: reading it from its earliest message", partition);
                added.put(partition, openFromEarliest.apply(partition));
            }
        }
        return added;
    }
}
