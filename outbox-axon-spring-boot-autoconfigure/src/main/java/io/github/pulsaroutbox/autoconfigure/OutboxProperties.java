package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.retention.OutboxRetention;
import io.github.pulsaroutbox.store.OutboxStore.Outcome;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.sql.init.DatabaseInitializationMode;

import java.time.Duration;
import java.util.Map;

/**
 * Configuration of the Pulsar outbox, prefix {@code pulsar-outbox}. Immutable.
 *
 * @param enabled          whether the outbox (capture and relay) is active at all
 * @param mode             how events reach Pulsar: {@code outbox-table} (default: captured into the outbox table in
 *                         the event store's transaction and relayed from it) or {@code tailing} (no table: a streaming
 *                         processor tails the event store, for Axon Server or an event store on another database)
 * @param tailing          the tailing mode's processor
 * @param table            the outbox table name, optionally schema-qualified
 * @param segments         how many segments the outbox is split into (by a Murmur3 hash of the aggregate id, as Pulsar
 *                         routes keys to partitions), 1 to 100: the units of work nodes claim; fixed for a table's
 *                         life (rows keep the segment they were written with)
 * @param initializeSchema when to create the outbox table at startup: {@code embedded} (default: only for an
 *                         embedded database such as H2), {@code always} or {@code never}
 * @param topics           aggregate type to Pulsar topic, e.g. {@code pulsar-outbox.topics.Order=shop/sales/orders};
 *                         takes precedence over {@code @Outbox(topic)}
 * @param defaultTopic     the topic for annotated aggregate types with no mapping and no annotated topic;
 *                         {@code {aggregateType}} is replaced by the type, e.g. {@code public/default/{aggregateType}}.
 *                         Unset by default: every captured aggregate must then have a topic
 * @param eventTypes       payload class name to the logical event type name consumers see ({@code ce_type}), e.g.
 *                         {@code pulsar-outbox.event-types[com.acme.OrderPlaced]=sales.order-placed}; takes precedence
 *                         over {@code @Outbox.EventType}; otherwise the class's simple name
 * @param relay            the relay
 * @param pulsar           the Pulsar producers
 * @param retry            what happens after a failed publish attempt
 * @param retention        removal of old SENT rows
 * @param health           the {@code outbox} health indicator
 * @param upcasting        bringing rows to the current version of their event type before they are sent
 */
@ConfigurationProperties(OutboxProperties.PREFIX)
public record OutboxProperties(@DefaultValue("true") boolean enabled,
                               @DefaultValue("outbox-table") Mode mode,
                               @DefaultValue Tailing tailing,
                               @DefaultValue(JdbcOutboxStore.DEFAULT_TABLE) String table,
                               @DefaultValue("16") int segments,
                               @DefaultValue("embedded") DatabaseInitializationMode initializeSchema,
                               Map<String, String> topics,
                               String defaultTopic,
                               Map<String, String> eventTypes,
                               @DefaultValue Relay relay,
                               @DefaultValue Pulsar pulsar,
                               @DefaultValue Retry retry,
                               @DefaultValue Retention retention,
                               @DefaultValue Health health,
                               @DefaultValue Upcasting upcasting) {

    /** The prefix of every property of this extension. */
    public static final String PREFIX = "pulsar-outbox";

    /** How events reach Pulsar. */
    public enum Mode {
        /** Captured into the outbox table in the event store's transaction, relayed from it. */
        OUTBOX_TABLE,
        /** Read from the event store by a streaming processor; no outbox table. */
        TAILING
    }

    /**
     * The tailing mode ({@code pulsar-outbox.mode=tailing}).
     *
     * @param processorName the pooled streaming processor's name (its tokens' owner name)
     * @param segments      the segments its token is split into when first created
     * @param batchSize     events per batch: one token update and one wait for acknowledgements each
     * @param startPosition where a processor without a token starts: {@code head} (default: events stored from then
     *                      on) or {@code tail} (the whole history)
     * @param ackTimeout    how long a batch waits for its acknowledgements before it fails and is retried
     * @param maxAttempts   failed sends of an event (for reasons that may pass, other than broker outages and
     *                      timeouts) before it is parked in the processor's dead-letter queue
     * @param balanceHeartbeat how often each instance renews its presence in the token store and recomputes its fair
     *                      share of the segments ({@code 0}: no balancing, each instance claims what it can); keep it
     *                      well below the token store's claim timeout
     * @param allowPooledPositions whether to start although the JPA event store takes {@code global_index} from a
     *                      pooled sequence (blocks of values per instance, so an aggregate's later event can get a
     *                      lower position than its earlier one when several instances append, and the tailing mode
     *                      would publish them out of order); {@code false} (default) refuses such a store at start.
     *                      Set {@code true} only if a single instance appends events
     */
    public record Tailing(@DefaultValue(io.github.pulsaroutbox.tailing.EventStoreTailingModule.DEFAULT_PROCESSOR_NAME)
                          String processorName,
                          @DefaultValue("4") int segments,
                          @DefaultValue("100") int batchSize,
                          @DefaultValue("head")
                          io.github.pulsaroutbox.tailing.EventStoreTailingModule.StartPosition startPosition,
                          @DefaultValue("60s") Duration ackTimeout,
                          @DefaultValue("10") int maxAttempts,
                          @DefaultValue("2s") Duration balanceHeartbeat,
                          @DefaultValue("false") boolean allowPooledPositions) {
    }

    public OutboxProperties {
        topics = topics == null ? Map.of() : Map.copyOf(topics);
        eventTypes = eventTypes == null ? Map.of() : Map.copyOf(eventTypes);
    }

    /**
     * The relay that publishes pending rows.
     *
     * @param enabled      whether this node runs the relay (capture runs regardless)
     * @param batchSize    rows read per fetch
     * @param maxInFlight  sends awaiting the broker's acknowledgement at most
     * @param pollInterval how often to look for rows when not woken by a local commit (rows of other nodes), and
     *                     the longest time between two full scans while the relay reads ahead
     * @param ackTimeout   how long a send may wait for its acknowledgement before it counts as a failed attempt
     * @param segmentClaims whether nodes claim segments in Axon's token store (every replica runs the relay, each
     *                     relays its share, rows are sent with persisted broker sequence ids); off: this node sends
     *                     every segment without sequence ids, so run the relay on one node only
     * @param processorName the processor name the segments are claimed under in the token store
     * @param claimTimeout the token store's claim timeout (default: {@code axon.eventhandling.tokenstore.claim-timeout},
     *                     else 10 s): a dead node's segments are taken over after it; a node sends only while its
     *                     claim was extended within half of it
     * @param nodeId       this node's identifier in the node table (default: the JVM's name, {@code pid@host})
     */
    public record Relay(@DefaultValue("true") boolean enabled,
                        @DefaultValue("500") int batchSize,
                        @DefaultValue("1000") int maxInFlight,
                        @DefaultValue("1s") Duration pollInterval,
                        @DefaultValue("60s") Duration ackTimeout,
                        @DefaultValue("true") boolean segmentClaims,
                        @DefaultValue("pulsar-outbox") String processorName,
                        Duration claimTimeout,
                        String nodeId) {
    }

    /**
     * The Pulsar producers (one per topic, on the application's {@code PulsarClient}).
     *
     * @param source                  the CloudEvents {@code ce_source} of every message; defaults to
     *                                {@code spring.application.name}, else {@code pulsar-outbox}
     * @param sendTimeout             the producer's send timeout
     * @param batching                key-based batching
     * @param batchingMaxPublishDelay the longest a message waits for its batch
     * @param maxPendingMessages      the producer's queue size (sends block when it is full)
     * @param registerSchemas         register the JSON schema of each event type (its current version) in Pulsar's
     *                                schema registry for its topic and send messages with it
     * @param producerNamePrefix      the prefix of the stable producer names, {@code <prefix>-<segment>} (default:
     *                                the source): the same on every replica and across restarts, unique among the
     *                                services publishing to the same topics
     * @param deduplication           checking at startup that broker deduplication is on for the outbox topics
     *                                (through {@code spring.pulsar.admin.service-url}): {@code warn} (default),
     *                                {@code require} (fail the start) or {@code off}
     * @param metadataProperties      Axon metadata key to the message property it is sent as (default:
     *                                {@code correlationId} as {@code ce_correlationid}, {@code traceId} as
     *                                {@code ce_causationid}); setting any replaces the defaults; other metadata stays
     *                                inside the service
     * @param observationsEnabled     observe each send through the application's Micrometer
     *                                {@code ObservationRegistry} (default on): with a tracing bridge a consumer span
     *                                continues the trace stored with the row and a producer span covers the send, and
     *                                the message's {@code traceparent} names the producer span
     */
    public record Pulsar(String source,
                         @DefaultValue("30s") Duration sendTimeout,
                         @DefaultValue("true") boolean batching,
                         @DefaultValue("1ms") Duration batchingMaxPublishDelay,
                         @DefaultValue("1000") int maxPendingMessages,
                         @DefaultValue("false") boolean registerSchemas,
                         String producerNamePrefix,
                         @DefaultValue("warn") io.github.pulsaroutbox.pulsar.DeduplicationCheck.Mode deduplication,
                         Map<String, String> metadataProperties,
                         @DefaultValue("true") boolean observationsEnabled) {
    }

    /**
     * Retries with exponential backoff and jitter; parking after the last attempt. Failures that retrying cannot fix
     * (no route, unknown or refused topic, message too large, unreadable payload, failed upcast) park at once.
     *
     * @param initialDelay the delay after the first failed attempt
     * @param multiplier   the factor by which each further delay grows
     * @param maxDelay     the longest delay
     * @param maxAttempts  failed attempts after which a row is parked
     * @param jitter       random spread of each delay, as a fraction (0.2 = ±20%)
     * @param outcomes     per failure kind, {@code retry}, {@code park} or {@code discard}, overriding the default,
     *                     e.g. {@code pulsar-outbox.retry.outcomes.message-too-large=discard}
     */
    public record Retry(@DefaultValue("1s") Duration initialDelay,
                        @DefaultValue("2.0") double multiplier,
                        @DefaultValue("5m") Duration maxDelay,
                        @DefaultValue("10") int maxAttempts,
                        @DefaultValue("0.2") double jitter,
                        Map<FailureKind, Outcome> outcomes) {

        public Retry {
            outcomes = outcomes == null ? Map.of() : Map.copyOf(outcomes);
        }
    }

    /**
     * Removal of SENT rows; parked, discarded and pending rows are never removed.
     *
     * @param enabled    whether the job runs
     * @param retainSent how long SENT rows are kept after they were sent
     * @param mode       {@code delete} them, or {@code archive} them to {@code <table>_archive}
     * @param batchSize  rows per batch (one short transaction each)
     * @param interval   how often the job runs
     * @param dutyCycle  the share of its time retention spends in batches while it removes a backlog (0.01 to 1):
     *                   after a batch that took t it pauses t × (1 − duty-cycle) / duty-cycle, so its database work
     *                   beside capture and the relay stays bounded; 1 runs batches back to back
     */
    public record Retention(@DefaultValue("true") boolean enabled,
                            @DefaultValue("7d") Duration retainSent,
                            @DefaultValue("delete") Mode mode,
                            @DefaultValue("1000") int batchSize,
                            @DefaultValue("10m") Duration interval,
                            @DefaultValue("0.2") double dutyCycle) {

        public Retention {
            if (!(dutyCycle >= OutboxRetention.MIN_DUTY_CYCLE && dutyCycle <= 1)) {
                throw new IllegalArgumentException("pulsar-outbox.retention.duty-cycle must be at least "
                                                           + OutboxRetention.MIN_DUTY_CYCLE + " and at most 1, was "
                                                           + dutyCycle);
            }
        }

        /** What retention does with old SENT rows. */
        public enum Mode {
            DELETE, ARCHIVE
        }
    }

    /**
     * The {@code outbox} health indicator, in its own health group {@code outbox} ({@code /actuator/health/outbox}).
     * Trouble is reported as {@code DEGRADED}, a status the application's overall health ignores: the outbox buffers
     * while the broker is away, so capture (and the application) stays in service.
     *
     * @param maxPendingAge DEGRADED when the oldest pending row waits longer than this
     * @param maxFailingFor DEGRADED when sends have failed for longer than this without any acknowledgement (a broker
     *                      outage, or a topic that refuses every row)
     * @param maxParked     DEGRADED when at least this many rows are parked
     */
    public record Health(@DefaultValue("5m") Duration maxPendingAge, @DefaultValue("30s") Duration maxFailingFor,
                         @DefaultValue("100") long maxParked) {

        public Health {
            if (maxParked < 1) {
                throw new IllegalArgumentException("pulsar-outbox.health.max-parked must be at least 1, was "
                                                           + maxParked);
            }
        }
    }

    /**
     * Upcasting at relay time, with the application's event-store upcasters and {@code PublishedEventUpcaster} beans.
     *
     * @param enabled         whether rows are upcast before they are sent
     * @param currentVersions per event type (payload type name, use bracket notation:
     *                        {@code pulsar-outbox.upcasting.current-versions[com.acme.OrderPlaced]=2}), the version to
     *                        publish at instead of the revision of its class
     */
    public record Upcasting(@DefaultValue("true") boolean enabled, Map<String, String> currentVersions) {

        public Upcasting {
            currentVersions = currentVersions == null ? Map.of() : Map.copyOf(currentVersions);
        }
    }
}
