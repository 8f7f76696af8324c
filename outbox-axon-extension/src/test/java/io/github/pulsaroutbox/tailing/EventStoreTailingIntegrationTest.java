package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import io.github.pulsaroutbox.pulsar.PulsarTopicResolver;
import io.github.pulsaroutbox.relay.OutboxPublisher;
import io.github.pulsaroutbox.testapp.Counter;
import io.github.pulsaroutbox.testapp.ShopCommands;
import io.github.pulsaroutbox.testapp.ShopOrder;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.Configuration;
import org.axonframework.config.Configurer;
import org.axonframework.config.DefaultConfigurer;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.axonframework.spring.messaging.unitofwork.SpringTransactionManager;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;

import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The tailing mode on plain Axon with a JDBC event store and token store (H2) and the real broker: no outbox table;
 * the events of {@code @Outbox} aggregates are published in order per aggregate, exactly once when nothing fails; a new
 * processor starts at the head of the store unless told to start at its tail; a failing send holds the token back
 * until the broker acknowledged, and nothing is lost.
 */
class EventStoreTailingIntegrationTest {

    private final String topic = "persistent://public/default/tailing-" + UUID.randomUUID();
    private final List<Configuration> started = new ArrayList<>();
    private final List<EventStoreTailingModule> tailingModules = new ArrayList<>();
    private JdbcDataSource dataSource;
    private ConnectionProvider connections;
    private TransactionManager transactions;
    private JacksonSerializer serializer;
    private JdbcTokenStore tokenStore;
    private PulsarClient client;

    @BeforeEach
    void setUp() throws Exception {
        dataSource = new JdbcDataSource();
        dataSource.setURL("jdbc:h2:mem:tailing-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        new ResourceDatabasePopulator(new ClassPathResource("axon-jdbc/h2-event-store.sql")).execute(dataSource);
        connections = new UnitOfWorkAwareConnectionProviderWrapper(new SpringDataSourceConnectionProvider(dataSource));
        transactions = new SpringTransactionManager(new DataSourceTransactionManager(dataSource));
        serializer = JacksonSerializer.defaultSerializer();
        tokenStore = JdbcTokenStore.builder().connectionProvider(connections).serializer(serializer).build();
        transactions.executeInTransaction(() -> tokenStore.createSchema(GenericTokenTableFactory.INSTANCE));
        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl())
                             .operationTimeout(10, TimeUnit.SECONDS).build();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Configuration configuration : started) {
            configuration.shutdown();
        }
        client.close();
    }

    @Test
    void eventsOfOutboxAggregatesArePublishedInOrderExactlyOnceWithoutAnOutboxTable() throws Exception {
        try (Consumer<byte[]> consumer = subscribe()) {
            CommandGateway gateway = start(tailing(EventStoreTailingModule.builder())).commandGateway();
            List<String> orders = new ArrayList<>();
            for (int aggregate = 0; aggregate < 20; aggregate++) {
                String orderId = "tail-" + aggregate + "-" + UUID.randomUUID();
                orders.add(orderId);
                gateway.sendAndWait(new ShopCommands.CreateOrder(orderId, "c" + aggregate));
            }
            gateway.sendAndWait(new ShopCommands.CreateCounter("not-published")); // no @Outbox
            for (int line = 1; line < 50; line++) {
                for (String orderId : orders) {
                    gateway.sendAndWait(new ShopCommands.AddLine(orderId, "p" + line, line));
                }
            }

            Map<String, List<Long>> sequences = new LinkedHashMap<>();
            Set<String> ids = new HashSet<>();
            int duplicates = 0;
            for (int i = 0; i < 1000; i++) {
                Message<byte[]> message = consumer.receive(60, TimeUnit.SECONDS);
                assertThat(message).as("message %d of 1000", i).isNotNull();
                if (!ids.add(message.getProperty(OutboxMessageProperties.ID))) {
                    duplicates++;
                }
                sequences.computeIfAbsent(message.getKey(), k -> new ArrayList<>()).add(
                        Long.parseLong(message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE)));
                assertThat(message.getProperty(OutboxMessageProperties.TYPE)).isIn("OrderCreated", "LineAdded");
            }
            assertThat(consumer.receive(2, TimeUnit.SECONDS)).as("nothing beyond the 1,000 events").isNull();
            assertThat(duplicates).isZero();
            assertThat(sequences.keySet()).containsExactlyInAnyOrderElementsOf(orders);
            List<Long> expected = java.util.stream.LongStream.range(0, 50).boxed().toList();
            sequences.forEach((key, seen) -> assertThat(seen).as("order of %s", key).isEqualTo(expected));
        }
        try (Connection connection = dataSource.getConnection();
             ResultSet tables = connection.getMetaData().getTables(null, null, "AXON_OUTBOX%", null)) {
            assertThat(tables.next()).as("no outbox table in tailing mode").isFalse();
        }
    }

    @Test
    void aNewProcessorStartsAtTheHeadOfTheStoreAndAtItsTailWhenAskedTo() throws Exception {
        String before = "before-" + UUID.randomUUID();
        Configuration plain = start(configurer()); // the application before the tailing mode was added
        plain.commandGateway().sendAndWait(new ShopCommands.CreateOrder(before, "history"));
        plain.commandGateway().sendAndWait(new ShopCommands.AddLine(before, "old", 1));
        plain.shutdown();
        started.remove(plain);

        String after = "after-" + UUID.randomUUID();
        try (Consumer<byte[]> consumer = subscribe()) {
            Configuration head = start(tailing(EventStoreTailingModule.builder()));
            awaitTokens(EventStoreTailingModule.DEFAULT_PROCESSOR_NAME);
            head.commandGateway().sendAndWait(new ShopCommands.CreateOrder(after, "new"));
            Message<byte[]> first = consumer.receive(30, TimeUnit.SECONDS);
            assertThat(first).isNotNull();
            assertThat(first.getKey()).as("history is not published by default").isEqualTo(after);
            assertThat(consumer.receive(2, TimeUnit.SECONDS)).isNull();
            head.shutdown();
            started.remove(head);

            start(tailing(EventStoreTailingModule.builder().processorName("outbox-history")
                                                 .startPosition(EventStoreTailingModule.StartPosition.TAIL)));
            List<String> replayed = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Message<byte[]> message = consumer.receive(30, TimeUnit.SECONDS);
                assertThat(message).as("replayed message %d", i).isNotNull();
                replayed.add(message.getKey() + "#" + message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE));
            }
            // in order per aggregate; aggregates in different segments may interleave
            assertThat(replayed).containsExactlyInAnyOrder(before + "#0", before + "#1", after + "#0");
            assertThat(replayed.indexOf(before + "#0")).isLessThan(replayed.indexOf(before + "#1"));
        }
    }

    @Test
    void aFailingSendHoldsTheTokenBackUntilTheBrokerAcknowledgesAndNothingIsLost() throws Exception {
        PulsarOutboxPublisher pulsar = PulsarOutboxPublisher.builder().pulsarClient(client)
                                                            .sendTimeout(Duration.ofSeconds(10)).build();
        String failing = "failing-" + UUID.randomUUID();
        AtomicInteger refusals = new AtomicInteger();
        OutboxPublisher flaky = new OutboxPublisher() {
            @Override
            public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
                if (entry.aggregateId().equals(failing) && entry.aggregateSequence() == 1
                        && refusals.incrementAndGet() <= 3) {
                    return CompletableFuture.failedFuture(new IllegalStateException("refused for the test"));
                }
                return pulsar.publish(entry, destination);
            }

            @Override
            public void close() {
                pulsar.close();
            }
        };
        Map<String, List<Long>> firstDeliveries = new ConcurrentHashMap<>();
        Set<String> ids = new HashSet<>();
        try (Consumer<byte[]> consumer = subscribe()) {
            CommandGateway gateway = start(tailing(EventStoreTailingModule.builder().segments(1), flaky))
                    .commandGateway();
            String other = "other-" + UUID.randomUUID();
            gateway.sendAndWait(new ShopCommands.CreateOrder(failing, "f"));
            gateway.sendAndWait(new ShopCommands.CreateOrder(other, "o"));
            gateway.sendAndWait(new ShopCommands.AddLine(failing, "x", 1));
            gateway.sendAndWait(new ShopCommands.AddLine(other, "y", 1));
            gateway.sendAndWait(new ShopCommands.AddLine(failing, "z", 2));

            Map<String, Integer> expected = Map.of(failing, 3, other, 2);
            Map<String, Set<Long>> seen = new HashMap<>();
            while (!seen.getOrDefault(failing, Set.of()).containsAll(List.of(0L, 1L, 2L))
                    || !seen.getOrDefault(other, Set.of()).containsAll(List.of(0L, 1L))) {
                Message<byte[]> message = consumer.receive(60, TimeUnit.SECONDS);
                assertThat(message).as("every event arrives once the sends succeed; seen %s", seen).isNotNull();
                long sequence = Long.parseLong(message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE));
                if (seen.computeIfAbsent(message.getKey(), k -> new HashSet<>()).add(sequence)) {
                    firstDeliveries.computeIfAbsent(message.getKey(), k -> new ArrayList<>()).add(sequence);
                }
                ids.add(message.getProperty(OutboxMessageProperties.ID));
            }
            assertThat(refusals.get()).as("the refused send was retried until it succeeded").isGreaterThan(3);
            assertThat(ids).hasSize(5);
            expected.forEach((key, count) -> assertThat(firstDeliveries.get(key)).as("first deliveries of %s", key)
                    .isEqualTo(java.util.stream.LongStream.range(0, count).boxed().toList()));
        }
    }

    /**
     * Sequence ids on: a send refused outright stops its batch (later sends would overtake it) and is sent again with
     * a fresh id above what the broker stored when the batch is retried (its position id is below the ids of the
     * events stored before it in earlier attempts, so deduplication would drop it), while the re-sent copies of the
     * stored events are dropped: every event arrives once, in order per aggregate.
     */
    @Test
    void aRefusedSendIsRetriedWithAFreshSequenceIdAndTheStoredCopiesAreDropped() throws Exception {
        Refusal refusal = refuseSecondEventThrice(false);
        assertThat(refusal.deliveries().get(refusal.failing())).as("once each, in order").containsExactly(0L, 1L, 2L);
        assertThat(refusal.deliveries().get(refusal.other())).as("once each, in order").containsExactly(0L, 1L);
    }

    /**
     * Sequence ids on, a refusal the broker reports only later (after later sends of the batch were stored): the
     * refused event is sent again with a fresh id above what the broker stored, so deduplication cannot drop it (4 of
     * 5 events arrive without this rule), and the re-sent copies of the stored events are dropped: every event is
     * stored once. The other aggregate keeps its order; the refused aggregate's later event may come first (a
     * documented limit of the tailing mode, docs/dispatch-modes.md#limits).
     */
    @Test
    void aRefusalReportedLaterLosesNothingAndDuplicatesNothing() throws Exception {
        Refusal refusal = refuseSecondEventThrice(true);
        assertThat(refusal.deliveries().get(refusal.failing())).as("each stored once")
                                                               .containsExactlyInAnyOrder(0L, 1L, 2L);
        assertThat(refusal.deliveries().get(refusal.other())).as("once each, in order").containsExactly(0L, 1L);
    }

    /** Per key, what a reader saw when the second event of {@code failing} was refused three times. */
    private record Refusal(String failing, String other, Map<String, List<Long>> deliveries) {
    }

    /**
     * Stores 3 events of one order and 2 of another (interleaved) before the processor starts, so they come in one
     * batch; the publisher (sequence ids on) refuses the first order's second event three times, at once or only
     * after later sends went ({@code later}); returns what the reader received.
     */
    private Refusal refuseSecondEventThrice(boolean later) throws Exception {
        String failing = "refused-" + UUID.randomUUID();
        String other = "other-" + UUID.randomUUID();
        Configuration plain = start(configurer());
        plain.commandGateway().sendAndWait(new ShopCommands.CreateOrder(failing, "f"));
        plain.commandGateway().sendAndWait(new ShopCommands.CreateOrder(other, "o"));
        plain.commandGateway().sendAndWait(new ShopCommands.AddLine(failing, "x", 1));
        plain.commandGateway().sendAndWait(new ShopCommands.AddLine(other, "y", 1));
        plain.commandGateway().sendAndWait(new ShopCommands.AddLine(failing, "z", 2));
        plain.shutdown();
        started.remove(plain);

        FlakyPublisher flaky = new FlakyPublisher(
                PulsarOutboxPublisher.builder().pulsarClient(client).sendTimeout(Duration.ofSeconds(10)).build(),
                failing, 1, 3, new org.apache.pulsar.client.api.PulsarClientException.NotAllowedException(
                        "refused for the test"), later);
        try (Consumer<byte[]> consumer = subscribe()) {
            start(tailing(EventStoreTailingModule.builder().segments(1)
                                                 .startPosition(EventStoreTailingModule.StartPosition.TAIL), flaky));
            Map<String, List<Long>> deliveries = receiveAll(consumer, 5);
            assertThat(flaky.refusals.get()).isEqualTo(3);
            return new Refusal(failing, other, deliveries);
        }
    }

    /**
     * With a dead-letter queue, a send that fails for a reason that may pass is retried with the batch, never parked:
     * the queue stays empty and every event arrives.
     */
    @Test
    void withADeadLetterQueueAPassingFailureIsRetriedNotParked() throws Exception {
        org.axonframework.eventhandling.deadletter.jdbc.JdbcSequencedDeadLetterQueue<
                org.axonframework.eventhandling.EventMessage<?>> queue = deadLetterQueue();
        String failing = "flaky-" + UUID.randomUUID();
        FlakyPublisher flaky = new FlakyPublisher(
                PulsarOutboxPublisher.builder().pulsarClient(client).sendTimeout(Duration.ofSeconds(10)).build(),
                failing, 1, 3, new IllegalStateException("unavailable for the test"), false);
        Configurer configurer = tailing(EventStoreTailingModule.builder().segments(1), flaky);
        configurer.eventProcessing().registerDeadLetterQueue(EventStoreTailingModule.DEFAULT_PROCESSOR_NAME,
                                                             c -> queue);
        try (Consumer<byte[]> consumer = subscribe()) {
            CommandGateway gateway = start(configurer).commandGateway();
            awaitTokens(EventStoreTailingModule.DEFAULT_PROCESSOR_NAME);
            gateway.sendAndWait(new ShopCommands.CreateOrder(failing, "f"));
            gateway.sendAndWait(new ShopCommands.AddLine(failing, "x", 1));
            gateway.sendAndWait(new ShopCommands.AddLine(failing, "z", 2));
            Map<String, List<Long>> deliveries = receiveAll(consumer, 3);
            assertThat(flaky.refusals.get()).isEqualTo(3);
            assertThat(deliveries.get(failing)).containsExactly(0L, 1L, 2L);
            assertThat(transactions.fetchInTransaction(queue::size)).as("nothing parked").isZero();
        }
    }

    /**
     * Receives until {@code distinct} events arrived, then 2 s more; per key, the sequences of the messages stored on
     * the topic in arrival order (a redelivery of the same stored message, e.g. after a reconnect, counts once).
     */
    private static Map<String, List<Long>> receiveAll(Consumer<byte[]> consumer, int distinct) throws Exception {
        Map<String, List<Long>> deliveries = new LinkedHashMap<>();
        Set<String> ids = new HashSet<>();
        Set<org.apache.pulsar.client.api.MessageId> stored = new HashSet<>();
        Message<byte[]> message;
        while ((message = consumer.receive(ids.size() >= distinct ? 2 : 90, TimeUnit.SECONDS)) != null) {
            consumer.acknowledge(message);
            if (!stored.add(message.getMessageId())) {
                continue;
            }
            ids.add(message.getProperty(OutboxMessageProperties.ID));
            deliveries.computeIfAbsent(message.getKey(), k -> new ArrayList<>()).add(
                    Long.parseLong(message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE)));
        }
        assertThat(ids).as("distinct events received").hasSize(distinct);
        return deliveries;
    }

    /** Fails the sends of one event (aggregate, sequence) a number of times, at once or after later sends went. */
    private static final class FlakyPublisher extends io.github.pulsaroutbox.relay.ForwardingOutboxPublisher {

        private final String aggregateId;
        private final long sequence;
        private final int times;
        private final Exception failure;
        private final boolean later;
        private final AtomicInteger refusals;

        FlakyPublisher(OutboxPublisher delegate, String aggregateId, long sequence, int times, Exception failure,
                       boolean later) {
            this(delegate, aggregateId, sequence, times, failure, later, new AtomicInteger());
        }

        private FlakyPublisher(OutboxPublisher delegate, String aggregateId, long sequence, int times,
                               Exception failure, boolean later, AtomicInteger refusals) {
            super(delegate);
            this.aggregateId = aggregateId;
            this.sequence = sequence;
            this.times = times;
            this.failure = failure;
            this.later = later;
            this.refusals = refusals;
        }

        @Override
        protected OutboxPublisher wrap(OutboxPublisher publisher) {
            return new FlakyPublisher(publisher, aggregateId, sequence, times, failure, later, refusals);
        }

        private CompletableFuture<?> refuseOr(OutboxEntry entry, java.util.function.Supplier<CompletableFuture<?>> send) {
            if (entry.aggregateId().equals(aggregateId) && entry.aggregateSequence() == sequence
                    && refusals.get() < times) {
                refusals.incrementAndGet();
                return later ? CompletableFuture.supplyAsync(() -> {
                    throw new java.util.concurrent.CompletionException(failure);
                }, CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS))
                             : CompletableFuture.failedFuture(failure);
            }
            return send.get();
        }

        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            return refuseOr(entry, () -> super.publish(entry, destination));
        }

        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination, int segment, long sequenceId) {
            return refuseOr(entry, () -> super.publish(entry, destination, segment, sequenceId));
        }
    }

    /**
     * A late commit: a transaction that took its global index before others committed theirs commits last. The
     * processor's gap-aware token sees the gap and publishes the event when it appears; its message is not dropped as
     * a copy by the broker's deduplication (it gets an id above what the producer stored), also when it is the first
     * event a restarted instance sees (its position is then the stored token's, whose id the broker has).
     */
    @Test
    void aLateCommitFillingAGapIsPublished() throws Exception {
        JdbcEventStorageEngine engine = JdbcEventStorageEngine.builder()
                .connectionProvider(connections).transactionManager(transactions)
                .eventSerializer(serializer).snapshotSerializer(serializer).build();
        String late = "late-" + UUID.randomUUID();
        String early = "early-" + UUID.randomUUID();
        try (Consumer<byte[]> consumer = subscribe()) {
            Configuration first = start(tailing(EventStoreTailingModule.builder().segments(1)));
            awaitTokens(EventStoreTailingModule.DEFAULT_PROCESSOR_NAME);
            java.util.concurrent.CountDownLatch appended = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch commit = new java.util.concurrent.CountDownLatch(1);
            Thread slow = new Thread(() -> transactions.executeInTransaction(() -> {
                engine.appendEvents(event(late, 0, new io.github.pulsaroutbox.testapp.ShopEvents.OrderCreated(late, "l")));
                appended.countDown();
                try {
                    commit.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }), "late-committer");
            slow.start();
            assertThat(appended.await(30, TimeUnit.SECONDS)).isTrue();
            transactions.executeInTransaction(() -> engine.appendEvents(
                    event(early, 0, new io.github.pulsaroutbox.testapp.ShopEvents.OrderCreated(early, "e")),
                    event(early, 1, new io.github.pulsaroutbox.testapp.ShopEvents.LineAdded(early, 1, "p", 1))));
            List<String> received = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Message<byte[]> message = consumer.receive(30, TimeUnit.SECONDS);
                assertThat(message).as("the early events, published while the gap is open").isNotNull();
                received.add(message.getKey());
            }
            assertThat(received).containsOnly(early);
            first.shutdown(); // its token, with the gap, is stored
            started.remove(first);
            commit.countDown();
            slow.join(30_000);
            start(tailing(EventStoreTailingModule.builder().segments(1)));
            Message<byte[]> filled = consumer.receive(60, TimeUnit.SECONDS);
            assertThat(filled).as("the late commit, published when it appeared").isNotNull();
            assertThat(filled.getKey()).isEqualTo(late);
            assertThat(consumer.receive(2, TimeUnit.SECONDS)).isNull();
        }
    }

    /**
     * An event stored at an older revision is read through the application's upcaster chain (1 → 2 → 3) and
     * published at the current revision, upcast once: a second pass of the 2 → 3 upcaster would fail on the payload.
     */
    @Test
    void eventsStoredAtAnOlderRevisionArePublishedUpcastOnceByTheEventStoresChain() throws Exception {
        String customerId = "c-" + UUID.randomUUID();
        org.springframework.jdbc.core.JdbcTemplate jdbc = new org.springframework.jdbc.core.JdbcTemplate(dataSource);
        jdbc.update("INSERT INTO DomainEventEntry (aggregateIdentifier, sequenceNumber, type, eventIdentifier, "
                            + "metaData, payload, payloadRevision, payloadType, timeStamp) "
                            + "VALUES (?, 0, 'Customer', ?, ?, ?, '1', ?, ?)",
                    customerId, UUID.randomUUID().toString(), "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    ("{\"customerId\":\"" + customerId + "\",\"name\":\"Ada Lovelace\",\"mail\":\"ada@example.com\"}")
                            .getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    io.github.pulsaroutbox.upcasting.current.CustomerRegistered.class.getName(),
                    java.time.Instant.now().toString());
        Configurer configurer = configurer()
                .registerEventUpcaster(c -> new io.github.pulsaroutbox.upcasting.current.CustomerUpcasters.V1ToV2())
                .registerEventUpcaster(c -> new io.github.pulsaroutbox.upcasting.current.CustomerUpcasters.V2ToV3());
        EventStoreTailingModule.builder()
                               .serializer(serializer)
                               .publisher(PulsarOutboxPublisher.builder().pulsarClient(client).build())
                               .topicResolver(PulsarTopicResolver.builder().map("Customer", topic)
                                                                 .map("ShopOrder", topic).build())
                               .aggregate(io.github.pulsaroutbox.upcasting.current.Customer.class)
                               .startPosition(EventStoreTailingModule.StartPosition.TAIL)
                               .build()
                               .configureModule(configurer);
        try (Consumer<byte[]> consumer = subscribe()) {
            start(configurer);
            Message<byte[]> message = consumer.receive(60, TimeUnit.SECONDS);
            assertThat(message).as("the upcast event").isNotNull();
            assertThat(message.getKey()).isEqualTo(customerId);
            assertThat(message.getProperty(OutboxMessageProperties.SCHEMA_VERSION)).isEqualTo("3");
            com.fasterxml.jackson.databind.JsonNode payload =
                    new com.fasterxml.jackson.databind.ObjectMapper().readTree(message.getValue());
            assertThat(payload.get("firstName").asText()).isEqualTo("Ada");
            assertThat(payload.get("lastName").asText()).isEqualTo("Lovelace");
            assertThat(payload.get("email").asText()).isEqualTo("ada@example.com");
            assertThat(payload.get("newsletter").asBoolean()).isFalse();
            assertThat(payload.has("mail")).isFalse();
        }
    }

    /**
     * An event the broker can never take (larger than its message size limit) is parked in the processing group's
     * dead-letter queue, and its aggregate's later events with it, while other aggregates flow; discarding it and
     * processing the queue publishes the rest of the aggregate, in order.
     */
    @Test
    void anEventThatCanNeverBeSentIsParkedInTheDeadLetterQueueAndHoldsOnlyItsAggregate() throws Exception {
        org.axonframework.eventhandling.deadletter.jdbc.JdbcSequencedDeadLetterQueue<
                org.axonframework.eventhandling.EventMessage<?>> queue = deadLetterQueue();
        Configurer configurer = tailing(EventStoreTailingModule.builder());
        configurer.eventProcessing().registerDeadLetterQueue(EventStoreTailingModule.DEFAULT_PROCESSOR_NAME,
                                                             c -> queue);
        String blocked = "blocked-" + UUID.randomUUID();
        String flowing = "flowing-" + UUID.randomUUID();
        try (Consumer<byte[]> consumer = subscribe()) {
            Configuration configuration = start(configurer);
            awaitTokens(EventStoreTailingModule.DEFAULT_PROCESSOR_NAME);
            CommandGateway gateway = configuration.commandGateway();
            gateway.sendAndWait(new ShopCommands.CreateOrder(blocked, "b"));
            gateway.sendAndWait(new ShopCommands.AddLine(blocked, "x".repeat(6 * 1024 * 1024), 1)); // > 5 MB
            gateway.sendAndWait(new ShopCommands.AddLine(blocked, "after", 2));
            gateway.sendAndWait(new ShopCommands.CreateOrder(flowing, "f"));
            gateway.sendAndWait(new ShopCommands.AddLine(flowing, "cup", 1));

            List<String> received = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Message<byte[]> message = consumer.receive(60, TimeUnit.SECONDS);
                assertThat(message).as("message %d; so far %s", i, received).isNotNull();
                received.add(message.getKey() + "#" + message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE));
            }
            assertThat(received).containsExactlyInAnyOrder(blocked + "#0", flowing + "#0", flowing + "#1");
            await().atMost(Duration.ofSeconds(30)).until(() -> transactions.fetchInTransaction(
                    () -> queue.sequenceSize(blocked)) == 2);
            assertThat(consumer.receive(2, TimeUnit.SECONDS)).as("the parked event and the one behind it").isNull();

            var letters = transactions.fetchInTransaction(() -> {
                List<org.axonframework.messaging.deadletter.DeadLetter<? extends
                        org.axonframework.eventhandling.EventMessage<?>>> all = new ArrayList<>();
                queue.deadLetterSequence(blocked).forEach(all::add);
                return all;
            });
            assertThat(letters).hasSize(2);
            assertThat(letters.get(0).cause()).hasValueSatisfying(
                    cause -> assertThat(cause.message()).contains("MESSAGE_TOO_LARGE"));
            transactions.executeInTransaction(() -> queue.evict(letters.get(0))); // the operator discards it
            assertThat(configuration.eventProcessingConfiguration()
                                    .eventProcessor(EventStoreTailingModule.DEFAULT_PROCESSOR_NAME)).isPresent();
            var processor = tailingModules.get(tailingModules.size() - 1).deadLetterProcessor().orElseThrow();
            assertThat(processor.processAny()).as("the rest of the sequence published").isTrue();
            Message<byte[]> released = consumer.receive(30, TimeUnit.SECONDS);
            assertThat(released).isNotNull();
            assertThat(released.getKey() + "#" + released.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE))
                    .isEqualTo(blocked + "#2");
            assertThat(transactions.fetchInTransaction(() -> queue.sequenceSize(blocked))).isZero();
        }
    }

    private org.axonframework.eventhandling.deadletter.jdbc.JdbcSequencedDeadLetterQueue<
            org.axonframework.eventhandling.EventMessage<?>> deadLetterQueue() {
        org.axonframework.eventhandling.deadletter.jdbc.JdbcSequencedDeadLetterQueue<
                org.axonframework.eventhandling.EventMessage<?>> queue =
                org.axonframework.eventhandling.deadletter.jdbc.JdbcSequencedDeadLetterQueue
                        .<org.axonframework.eventhandling.EventMessage<?>>builder()
                        .processingGroup(EventStoreTailingModule.DEFAULT_PROCESSOR_NAME)
                        .connectionProvider(connections).transactionManager(transactions)
                        .genericSerializer(serializer).eventSerializer(serializer)
                        .build();
        transactions.executeInTransaction(() -> queue.createSchema(
                new org.axonframework.eventhandling.deadletter.jdbc.GenericDeadLetterTableFactory()));
        return queue;
    }

    private static org.axonframework.eventhandling.DomainEventMessage<?> event(String aggregateId, long sequence,
                                                                              Object payload) {
        return new org.axonframework.eventhandling.GenericDomainEventMessage<>("ShopOrder", aggregateId, sequence,
                                                                               payload);
    }

    private Configurer configurer() {
        return DefaultConfigurer.defaultConfiguration()
                .configureTransactionManager(c -> transactions)
                .configureSerializer(c -> serializer)
                .configureEventSerializer(c -> serializer)
                .configureEmbeddedEventStore(c -> JdbcEventStorageEngine.builder()
                        .connectionProvider(connections).transactionManager(transactions)
                        .upcasterChain(c.upcasterChain())
                        .eventSerializer(serializer).snapshotSerializer(serializer).build())
                .configureAggregate(ShopOrder.class)
                .configureAggregate(Counter.class)
                .registerComponent(TokenStore.class, c -> tokenStore);
    }

    private Configurer tailing(EventStoreTailingModule.Builder module) {
        return tailing(module, PulsarOutboxPublisher.builder().pulsarClient(client).build());
    }

    private Configurer tailing(EventStoreTailingModule.Builder module, OutboxPublisher publisher) {
        Configurer configurer = configurer();
        EventStoreTailingModule built = module.serializer(serializer)
                                              .publisher(publisher)
                                              .topicResolver(PulsarTopicResolver.builder().map("ShopOrder", topic)
                                                                                .build())
                                              .processorCustomizer(processor -> processor.tokenClaimInterval(200))
                                              .build();
        built.configureModule(configurer);
        tailingModules.add(built);
        return configurer;
    }

    private Configuration start(Configurer configurer) {
        Configuration configuration = configurer.start();
        started.add(configuration);
        return configuration;
    }

    private void awaitTokens(String processorName) {
        await().atMost(Duration.ofSeconds(30)).until(() -> transactions.fetchInTransaction(
                () -> tokenStore.fetchSegments(processorName).length > 0));
    }

    private Consumer<byte[]> subscribe() throws Exception {
        return client.newConsumer(Schema.BYTES).topic(topic).subscriptionName("check-" + UUID.randomUUID())
                     .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
    }
}
