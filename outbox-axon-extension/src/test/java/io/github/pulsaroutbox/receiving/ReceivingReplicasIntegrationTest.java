package io.github.pulsaroutbox.receiving;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.PlainAxon;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import io.github.pulsaroutbox.receiving.inbox.InboxInterceptor;
import io.github.pulsaroutbox.receiving.inbox.JdbcInbox;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import io.github.pulsaroutbox.BrokerAdmin;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.PropagatingErrorHandler;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.eventhandling.SimpleEventHandlerInvoker;
import org.axonframework.eventhandling.SubscribingEventProcessor;
import org.axonframework.eventhandling.TrackingEventProcessor;
import org.axonframework.eventhandling.TrackingEventProcessorConfiguration;
import org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.serialization.json.JacksonSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two replicas of a receiving service, their projection and inbox in one H2 database; some events are on the topic
 * twice. Through the streamable source, tracking processors share a JDBC token store (four segments; the first replica
 * gives two up to the second, so both hold live segments); through the subscribable source, two consumers share one
 * Key_Shared subscription. In both, both replicas apply events at once, then one stops halfway (its segments or keys
 * move to the other, a rebalance): every event is applied once and in aggregate order, across the handover.
 */
class ReceivingReplicasIntegrationTest {

    private final String name = "replicas-" + UUID.randomUUID();
    private final String topic = "persistent://public/default/" + name;
    private final PlainAxon.H2Database db = PlainAxon.H2Database.create("receiving-replicas");
    private final AtomicInteger applied = new AtomicInteger();
    private final List<TrackingEventProcessor> replicas = new ArrayList<>();
    private final List<SubscribingEventProcessor> subscribers = new ArrayList<>();
    private PulsarClient client;
    private TotalsTable table;

    @AfterEach
    void tearDown() throws Exception {
        replicas.forEach(TrackingEventProcessor::shutDown);
        subscribers.forEach(SubscribingEventProcessor::shutDown);
        if (client != null) {
            client.close();
        }
    }

    private TrackingEventProcessor replica(String nodeId, PulsarStreamableMessageSource source, JdbcInbox inbox,
                                           Totals totals) {
        JdbcTokenStore tokens = JdbcTokenStore.builder().connectionProvider(db.connections())
                                              .serializer(JacksonSerializer.defaultSerializer())
                                              .nodeId(nodeId).claimTimeout(Duration.ofSeconds(2)).build();
        TrackingEventProcessor processor =
                TrackingEventProcessor.builder()
                                      .name("totals")
                                      .eventHandlerInvoker(handlers(totals))
                                      .messageSource(source)
                                      .tokenStore(tokens)
                                      .transactionManager(db.transactions())
                                      .trackingEventProcessorConfiguration(
                                              TrackingEventProcessorConfiguration.forParallelProcessing(4)
                                                                                 .andInitialSegmentsCount(4)
                                                                                 .andBatchSize(5)
                                                                                 .andTokenClaimInterval(
                                                                                         200, TimeUnit.MILLISECONDS))
                                      .build();
        processor.registerHandlerInterceptor(new InboxInterceptor(inbox, "totals"));
        replicas.add(processor);
        return processor;
    }

    @Test
    void everyEventIsAppliedOnceInAggregateOrderAcrossARebalance() throws Exception {
        BrokerAdmin.send("PUT", "/admin/v2/persistent/public/default/" + name + "/partitions", "4");
        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl()).build();
        table = new TotalsTable(db.dataSource(), db.connections());
        JdbcTokenStore.builder().connectionProvider(db.connections()).serializer(JacksonSerializer.defaultSerializer())
                      .build().createSchema(GenericTokenTableFactory.INSTANCE);
        JdbcInbox inbox = JdbcInbox.builder().connectionProvider(db.connections()).build();
        inbox.createSchema();
        PulsarStreamableMessageSource source = PulsarStreamableMessageSource.builder().pulsarClient(client)
                                                                            .topic(topic)
                                                                            .converter(Deposits.converter()).build();
        Map<String, Long> expected = new HashMap<>();
        int events = 0;
        try (PulsarOutboxPublisher publisher = PulsarOutboxPublisher.builder().pulsarClient(client).build()) {
            events += publish(publisher, expected, 0, 10);
            Totals ofFirst = new Totals();
            Totals ofSecond = new Totals();
            TrackingEventProcessor first = replica("node-1", source, inbox, ofFirst);
            TrackingEventProcessor second = replica("node-2", source, inbox, ofSecond);
            first.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> applied.get() >= 50);
            second.start();
            // the first replica, holding all four segments, gives two up: both replicas hold live segments at once.
            // Released until the second holds them: releaseSegment(int) lets the first claim them back after two
            // claim intervals (400 ms), before a second replica still starting on a loaded machine has claimed any
            first.releaseSegment(2, 2, TimeUnit.MINUTES);
            first.releaseSegment(3, 2, TimeUnit.MINUTES);
            await().atMost(Duration.ofSeconds(60)).until(() -> second.processingStatus().size() == 2);
            int firstBefore = ofFirst.applied.get();
            events += publish(publisher, expected, 10, 10);
            await().atMost(Duration.ofSeconds(60))
                   .until(() -> ofSecond.applied.get() > 0 && ofFirst.applied.get() > firstBefore);
            first.shutDown(); // its segments are released and the other replica takes them over
            events += publish(publisher, expected, 20, 10);
        }
        int total = events;
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(table.totals()).isEqualTo(expected));
        assertThat(table.outOfOrder).as("events applied out of aggregate order").isEmpty();
        assertThat(inbox.count("totals")).as("one record per event: each applied once").isEqualTo(total);
    }

    /** 20 accounts, sequences {@code from} to {@code from + count - 1}; every seventh row published twice. */
    private int publish(PulsarOutboxPublisher publisher, Map<String, Long> expected, int from, int count) {
        List<OutboxEntry> rows = new ArrayList<>();
        for (int sequence = from; sequence < from + count; sequence++) {
            for (int account = 0; account < 20; account++) {
                long amount = 1 + account * 1000L + sequence;
                expected.merge("a" + account, amount, Long::sum);
                OutboxEntry row = Deposits.deposit("a" + account, sequence, amount);
                rows.add(row);
                if ((sequence * 20 + account) % 7 == 0) {
                    rows.add(row);
                }
            }
        }
        Deposits.publish(publisher, topic, rows);
        return 20 * count;
    }

    /*
     * The subscribable source on two replicas: one Key_Shared subscription, both consuming at once (each gets a share
     * of the keys), then one leaves; the other gets its keys, including what it had received and not acknowledged.
     */
    @Test
    void keySharedReplicasShareTheKeysAndApplyEveryEventOnceInAggregateOrderWhenOneLeaves() throws Exception {
        BrokerAdmin.send("PUT", "/admin/v2/persistent/public/default/" + name + "/partitions", "2");
        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl()).build();
        table = new TotalsTable(db.dataSource(), db.connections());
        JdbcInbox inbox = JdbcInbox.builder().connectionProvider(db.connections()).build();
        inbox.createSchema();
        Totals ofFirst = new Totals();
        Totals ofSecond = new Totals();
        SubscribingEventProcessor first = subscriber(ofFirst, inbox);
        SubscribingEventProcessor second = subscriber(ofSecond, inbox);
        Map<String, Long> expected = new HashMap<>();
        int events = 0;
        try (PulsarOutboxPublisher publisher = PulsarOutboxPublisher.builder().pulsarClient(client).build()) {
            first.start();
            second.start();
            events += publish(publisher, expected, 0, 10);
            await().atMost(Duration.ofSeconds(60))
                   .until(() -> applied.get() >= 100 && ofFirst.applied.get() > 0 && ofSecond.applied.get() > 0);
            first.shutDown(); // its consumer closes: the broker gives its keys to the other one
            events += publish(publisher, expected, 10, 10);
        }
        int total = events;
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(table.totals()).isEqualTo(expected));
        assertThat(table.outOfOrder).as("events applied out of aggregate order").isEmpty();
        assertThat(inbox.count("totals")).as("one record per event: each applied once").isEqualTo(total);
    }

    /** The projection's handlers; a failure reaches the processor (retried), never logged and skipped. */
    private static SimpleEventHandlerInvoker handlers(Totals totals) {
        return SimpleEventHandlerInvoker.builder().eventHandlers(totals)
                                        .listenerInvocationErrorHandler(PropagatingErrorHandler.instance()).build();
    }

    private SubscribingEventProcessor subscriber(Totals totals, JdbcInbox inbox) {
        PulsarSubscribableMessageSource source = PulsarSubscribableMessageSource.builder()
                                                                                .pulsarClient(client)
                                                                                .topic(topic)
                                                                                .subscription("totals")
                                                                                .converter(Deposits.converter())
                                                                                .build();
        SubscribingEventProcessor processor =
                SubscribingEventProcessor.builder()
                                         .name("totals")
                                         .eventHandlerInvoker(handlers(totals))
                                         .messageSource(source)
                                         .transactionManager(db.transactions())
                                         .build();
        processor.registerHandlerInterceptor(new InboxInterceptor(inbox, "totals"));
        subscribers.add(processor);
        return processor;
    }

    /**
     * Totals per account, written in the processor's transaction; notes an event that is not its account's next.
     * Counts what this replica applied (and all replicas together).
     */
    class Totals {
        final AtomicInteger applied = new AtomicInteger();

        @EventHandler
        void on(Deposits.Deposited deposited, @SequenceNumber long sequence) throws Exception {
            table.apply(deposited, sequence);
            this.applied.incrementAndGet();
            ReceivingReplicasIntegrationTest.this.applied.incrementAndGet();
        }
    }
}
