package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.pulsar.PulsarTopics;
import io.github.pulsaroutbox.receiving.MessagePosition;
import io.github.pulsaroutbox.receiving.PulsarTrackingToken;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.common.policies.data.ManagedLedgerInternalStats;
import org.apache.pulsar.common.policies.data.PersistentTopicInternalStats;
import org.apache.pulsar.common.policies.data.SubscriptionStats;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.EventTrackerStatus;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.WrappedToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.pulsar.core.PulsarAdministration;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The receiving lag per partition, {@code pulsar.outbox.receiving.lag} (tags {@code source}, {@code partition},
 * {@code group}): the entries of a partition not yet handled (a batch counts once), read from the broker's statistics
 * every {@code lagInterval} with the application's {@link PulsarAdministration}, off the meters' thread.
 * <ul>
 *     <li>A subscribable source: the backlog of its subscription on each partition ({@code group} is the
 *     subscription).</li>
 *     <li>A streamable source: for each processor bound to it that runs segments on this node ({@code group} is the
 *     processor), the entries after its segments' positions in each partition, the furthest behind segment
 *     counting; a replica reports its own segments.</li>
 * </ul>
 * A partition that could not be read keeps its last value; failures are logged at debug level.
 */
final class ReceivingLag implements MeterBinder, AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(ReceivingLag.class);

    private final ReceivingProperties properties;
    private final ReceivingGroups groups;
    private final PulsarAdministration administration;
    private final ObjectProvider<EventProcessingConfiguration> processing;
    private final Map<Key, Long> lags = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "pulsar-outbox-receiving-lag");
        thread.setDaemon(true);
        return thread;
    });
    private volatile MeterRegistry registry;
    private volatile PulsarAdmin admin;

    /** A partition's lag for one group. */
    record Key(String source, String partition, String group) {
    }

    ReceivingLag(ReceivingProperties properties, ReceivingGroups groups, PulsarAdministration administration,
                 ObjectProvider<EventProcessingConfiguration> processing) {
        this.properties = properties;
        this.groups = groups;
        this.administration = administration;
        this.processing = processing;
    }

    @Override
    public void bindTo(MeterRegistry meterRegistry) {
        this.registry = meterRegistry;
        long interval = properties.lagInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::refresh, 0, interval, TimeUnit.MILLISECONDS);
    }

    /** The lags read last. */
    Map<Key, Long> lags() {
        return Map.copyOf(lags);
    }

    /** Reads every source's lag once (the scheduler's task; callable in tests). */
    synchronized void refresh() {
        try {
            if (admin == null) {
                admin = administration.createAdminClient();
            }
            if (scheduler.isShutdown()) {
                closeAdmin();
                return;
            }
            properties.sources().forEach(this::refresh);
        } catch (RuntimeException | org.apache.pulsar.client.api.PulsarClientException e) {
            logger.debug("Could not read the receiving lag", e);
            closeAdmin();
        }
    }

    private void refresh(String source, ReceivingProperties.Source settings) {
        for (String topic : settings.topics()) {
            String normalized = PulsarTopics.normalize(topic);
            try {
                for (String partition : partitions(normalized)) {
                    if (settings.mode() == ReceivingProperties.SourceMode.SUBSCRIBABLE) {
                        String subscription = settings.subscription() != null ? settings.subscription() : source;
                        SubscriptionStats stats = admin.topics().getStats(partition).getSubscriptions()
                                                       .get(subscription);
                        if (stats != null) {
                            record(new Key(source, partition, subscription), stats.getMsgBacklog());
                        }
                    } else {
                        streamable(source, partition);
                    }
                }
            } catch (PulsarAdminException e) {
                logger.debug("Could not read the receiving lag of {}", normalized, e);
            }
        }
    }

    private void streamable(String source, String partition) throws PulsarAdminException {
        EventProcessingConfiguration configuration = processing.getIfAvailable();
        if (configuration == null) {
            return;
        }
        PersistentTopicInternalStats stats = null;
        for (String processor : groups.processorsOf(source)) {
            Optional<StreamingEventProcessor> streaming =
                    configuration.eventProcessor(processor, StreamingEventProcessor.class);
            if (streaming.isEmpty()) {
                continue;
            }
            List<PulsarTrackingToken> tokens = new ArrayList<>();
            for (EventTrackerStatus status : streaming.get().processingStatus().values()) {
                TrackingToken token = WrappedToken.unwrapLowerBound(status.getTrackingToken());
                if (token == null || token instanceof PulsarTrackingToken) {
                    tokens.add(token == null ? PulsarTrackingToken.start() : (PulsarTrackingToken) token);
                }
            }
            if (tokens.isEmpty()) {
                continue; // no segment of it runs here
            }
            if (stats == null) {
                stats = admin.topics().getInternalStats(partition);
            }
            long lag = 0;
            for (PulsarTrackingToken token : tokens) {
                lag = Math.max(lag, entriesAfter(stats, token.position(partition).flatMap(MessagePosition::of)));
            }
            record(new Key(source, partition, processor), lag);
        }
    }

    /** The entries of a partition after {@code position} (all retained ones without a position). */
    static long entriesAfter(ManagedLedgerInternalStats stats, Optional<MessagePosition> position) {
        if (position.isEmpty()) {
            return stats.numberOfEntries;
        }
        long ledger = position.get().ledgerId();
        long entry = position.get().entryId();
        long after = 0;
        List<ManagedLedgerInternalStats.LedgerInfo> ledgers = stats.ledgers == null ? List.of() : stats.ledgers;
        for (int i = 0; i < ledgers.size(); i++) {
            ManagedLedgerInternalStats.LedgerInfo info = ledgers.get(i);
            boolean current = i == ledgers.size() - 1;
            long entries = current ? stats.currentLedgerEntries : info.entries;
            if (info.ledgerId > ledger) {
                after += entries;
            } else if (info.ledgerId == ledger) {
                after += Math.max(0, entries - entry - 1);
            }
        }
        return after;
    }

    private void record(Key key, long lag) {
        Long before = lags.put(key, lag);
        MeterRegistry meters = registry;
        if (before == null && meters != null) {
            Gauge.builder("pulsar.outbox.receiving.lag", lags, values -> values.getOrDefault(key, 0L))
                 .description("Entries of the partition not yet handled by the group (a batch counts once)")
                 .tags("source", key.source(), "partition", key.partition(), "group", key.group())
                 .register(meters);
        }
    }

    private List<String> partitions(String topic) throws PulsarAdminException {
        int count = admin.topics().getPartitionedTopicMetadata(topic).partitions;
        if (count == 0) {
            return List.of(topic);
        }
        List<String> partitions = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            partitions.add(topic + "-partition-" + i);
        }
        return partitions;
    }

    private void closeAdmin() {
        PulsarAdmin open = admin;
        admin = null;
        if (open != null) {
            open.close();
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        closeAdmin();
    }

    /** The interval, for the start's validation. */
    static void validate(Duration interval) {
        if (interval == null || interval.isNegative() || interval.isZero()) {
            throw new org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException(
                    ReceivingProperties.PREFIX + ".lag-interval", interval, "It must be positive");
        }
    }
}
