package io.github.pulsaroutbox.receiving;

import io.github.pulsaroutbox.BrokerAdmin;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.PropagatingErrorHandler;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.eventhandling.SimpleEventHandlerInvoker;
import org.axonframework.eventhandling.TrackingEventProcessor;
import org.axonframework.eventhandling.TrackingEventProcessorConfiguration;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A tracking processor with two segments reads a topic of two partitions through the source as it reads an event
 * store: every event in aggregate order, resumed after its stored token when started again (nothing handled twice,
 * nothing missed), and replayed from the start when its tokens are reset.
 */
class PulsarStreamableMessageSourceIntegrationTest {

    private final String name = "streamable-" + UUID.randomUUID();
    private final String topic = "persistent://public/default/" + name;
    private final InMemoryTokenStore tokens = new InMemoryTokenStore();
    private final Projection projection = new Projection();
    private final Map<String, Long> expected = new ConcurrentHashMap<>();
    private PulsarClient client;
    private PulsarOutboxPublisher publisher;
    private PulsarStreamableMessageSource source;
    private TrackingEventProcessor processor;

    @BeforeEach
    void setUp() throws Exception {
        BrokerAdmin.send("PUT", "/admin/v2/persistent/public/default/" + name + "/partitions", "2");
        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl()).build();
        publisher = PulsarOutboxPublisher.builder().pulsarClient(client).build();
        source = PulsarStreamableMessageSource.builder()
                                              .pulsarClient(client)
                                              .topic(topic)
                                              .converter(Deposits.converter())
                                              .build();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (processor != null) {
            processor.shutDown();
        }
        publisher.close();
        client.close();
    }

    private TrackingEventProcessor newProcessor() {
        return TrackingEventProcessor.builder()
                                     .name("totals")
                                     .eventHandlerInvoker(SimpleEventHandlerInvoker.builder()
                                                                                   .eventHandlers(projection)
                                                                                   .listenerInvocationErrorHandler(
                                                                                           PropagatingErrorHandler.instance())
                                                                                   .build())
                                     .messageSource(source)
                                     .tokenStore(tokens)
                                     .transactionManager(org.axonframework.common.transaction.NoTransactionManager
                                                                 .instance())
                                     .trackingEventProcessorConfiguration(
                                             TrackingEventProcessorConfiguration.forParallelProcessing(2)
                                                                                .andInitialSegmentsCount(2))
                                     .build();
    }

    /** Publishes {@code count} deposits per account, sequences from {@code from}; in publish order per key. */
    private int publish(int accounts, int from, int count) {
        List<OutboxEntry> rows = new ArrayList<>();
        for (int sequence = from; sequence < from + count; sequence++) {
            for (int account = 0; account < accounts; account++) {
                long amount = 1 + account * 100L + sequence;
                expected.merge("a" + account, amount, Long::sum);
                rows.add(Deposits.deposit("a" + account, sequence, amount));
            }
        }
        Deposits.publish(publisher, topic, rows);
        return rows.size();
    }

    @Test
    void readsInAggregateOrderResumesAfterItsTokenAndReplaysWhenReset() {
        int published = publish(12, 0, 5);
        processor = newProcessor();
        processor.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> projection.handled.get() == published);
        assertThat(projection.totals).isEqualTo(expected);

        // stopped and started again: only what was published since
        processor.shutDown();
        int more = publish(12, 5, 3);
        processor = newProcessor();
        processor.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> projection.handled.get() == published + more);
        assertThat(projection.totals).isEqualTo(expected);

        // reset: the projection is rebuilt from the topic's start
        processor.shutDown();
        processor.resetTokens();
        processor.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> projection.handled.get() == published + more);
        assertThat(projection.resets.get()).isEqualTo(1);
        assertThat(projection.totals).isEqualTo(expected);
        assertThat(projection.outOfOrder).as("events out of aggregate order").isEmpty();
    }

    @Test
    void partitionsAddedWhileTheProcessorRunsAreReadWithoutARestart() throws Exception {
        source = PulsarStreamableMessageSource.builder().pulsarClient(client).topic(topic)
                                              .converter(Deposits.converter())
                                              .partitionCheckInterval(Duration.ofMillis(200)).build();
        int published = publish(12, 0, 3);
        processor = newProcessor();
        processor.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> projection.handled.get() == published);

        BrokerAdmin.send("POST", "/admin/v2/persistent/public/default/" + name + "/partitions", "4");
        int more = 0;
        try (PulsarOutboxPublisher after = PulsarOutboxPublisher.builder().pulsarClient(client).build()) {
            List<OutboxEntry> rows = new ArrayList<>();
            for (int account = 0; account < 30; account++) { // new keys: spread over all four partitions
                for (int sequence = 0; sequence < 2; sequence++) {
                    expected.merge("n" + account, 7L + sequence, Long::sum);
                    rows.add(Deposits.deposit("n" + account, sequence, 7L + sequence));
                }
            }
            Deposits.publish(after, topic, rows);
            more = rows.size();
        }
        int total = published + more;
        assertThat(((PulsarTrackingToken) source.createHeadToken()).getPositions().keySet())
                .as("the new partitions hold some of the messages")
                .anyMatch(partition -> partition.endsWith("-partition-2") || partition.endsWith("-partition-3"));

        await().atMost(Duration.ofSeconds(60)).until(() -> projection.handled.get() == total);
        assertThat(projection.totals).isEqualTo(expected);
        assertThat(projection.outOfOrder).as("events out of aggregate order").isEmpty();
    }

    @Test
    void aHeadTokenSkipsWhatIsAlreadyOnTheTopic() {
        publish(3, 0, 2);
        PulsarTrackingToken head = (PulsarTrackingToken) source.createHeadToken();
        assertThat(head.getPositions()).as("both partitions hold messages").hasSize(2);
        expected.clear();
        tokens.initializeTokenSegments("totals", 2, head);
        int later = publish(3, 2, 2);
        processor = newProcessor();
        processor.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> projection.handled.get() == later);
        assertThat(projection.totals).isEqualTo(expected);
    }

    @Test
    void aTokenAtATimeReadsWhatWasPublishedFromThenOn() throws Exception {
        publish(3, 0, 2);
        Instant cut = Instant.now();
        await().until(() -> Instant.now().toEpochMilli() > cut.toEpochMilli()); // later messages: a later millisecond
        expected.clear();
        int later;
        try (PulsarOutboxPublisher batching = PulsarOutboxPublisher.builder().pulsarClient(client).batching(true)
                                                                   .producerNamePrefix("batching").build()) {
            List<OutboxEntry> rows = new ArrayList<>();
            for (int sequence = 2; sequence < 4; sequence++) {
                for (int account = 0; account < 3; account++) {
                    expected.merge("a" + account, 1 + account * 100L + sequence, Long::sum);
                    rows.add(Deposits.deposit("a" + account, sequence, 1 + account * 100L + sequence));
                }
            }
            Deposits.publish(batching, topic, rows);
            later = rows.size();
        }

        PulsarTrackingToken at = (PulsarTrackingToken) source.createTokenAt(cut.plusMillis(1));
        assertThat(source.createTokenAt(Instant.now().plusSeconds(3600))).as("nothing that recent: the head")
                                                                        .isEqualTo(source.createHeadToken());
        assertThat(count(source.createTokenAt(Instant.EPOCH))).as("everything is that recent").isEqualTo(12);
        assertThat(count(at)).isEqualTo(later);
        tokens.initializeTokenSegments("totals", 2, at);
        processor = newProcessor();
        processor.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> projection.handled.get() >= later);
        assertThat(projection.totals).isEqualTo(expected);
        assertThat(projection.handled.get()).isEqualTo(later);
    }

    /** How many events a stream from {@code token} reads (until none comes for 3 s). */
    private int count(org.axonframework.eventhandling.TrackingToken token) throws InterruptedException {
        int read = 0;
        try (var stream = source.openStream(token)) {
            while (stream.hasNextAvailable(3, java.util.concurrent.TimeUnit.SECONDS)) {
                stream.nextAvailable();
                read++;
            }
        }
        return read;
    }

    /** Totals per account in memory; notes any event that is not its aggregate's next. */
    static class Projection {
        final Map<String, Long> totals = new ConcurrentHashMap<>();
        final Map<String, Long> lastSequence = new ConcurrentHashMap<>();
        final List<String> outOfOrder = new CopyOnWriteArrayList<>();
        final AtomicInteger handled = new AtomicInteger();
        final AtomicInteger resets = new AtomicInteger();

        @EventHandler
        void on(Deposits.Deposited deposited, @SequenceNumber long sequence) {
            long last = lastSequence.getOrDefault(deposited.account(), -1L);
            if (sequence != last + 1) {
                outOfOrder.add(deposited.account() + " " + sequence + " after " + last);
            }
            lastSequence.put(deposited.account(), sequence);
            totals.merge(deposited.account(), deposited.amount(), Long::sum);
            handled.incrementAndGet();
        }

        @ResetHandler
        void reset() {
            totals.clear();
            lastSequence.clear();
            handled.set(0);
            resets.incrementAndGet();
        }
    }
}
