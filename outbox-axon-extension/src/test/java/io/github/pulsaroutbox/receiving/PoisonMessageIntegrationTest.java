package io.github.pulsaroutbox.receiving;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.PlainAxon;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import io.github.pulsaroutbox.receiving.inbox.InboxInterceptor;
import io.github.pulsaroutbox.receiving.inbox.JdbcInbox;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.config.Configuration;
import org.axonframework.config.DefaultConfigurer;
import org.axonframework.config.EventProcessingConfigurer;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.axonframework.messaging.deadletter.DeadLetter;
import org.axonframework.messaging.deadletter.InMemorySequencedDeadLetterQueue;
import org.axonframework.messaging.deadletter.SequencedDeadLetterQueue;
import org.axonframework.serialization.json.JacksonSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A poison message on the topic: a pooled streaming processor reading the streamable source, or a subscribing one
 * reading the subscribable source, with Axon's sequenced dead-letter queue and the inbox for its processing group,
 * parks the event its handler keeps refusing together with the later events of its aggregate, while every other
 * aggregate's events flow; retried after the fix, the sequence is applied in order and once (through the inbox, which
 * recorded the parked events when they were parked).
 */
class PoisonMessageIntegrationTest {

    private final String topic = "persistent://public/default/poison-" + UUID.randomUUID();
    private final Map<String, List<Long>> applied = new ConcurrentHashMap<>();
    private volatile boolean fixed;
    private final PlainAxon.H2Database db = PlainAxon.H2Database.create("poison");
    private PulsarClient client;
    private Configuration axon;

    @AfterEach
    void tearDown() throws Exception {
        if (axon != null) {
            axon.shutdown();
        }
        if (client != null) {
            client.close();
        }
    }

    @Test
    void aRefusedEventParksItsAggregatesLaterEventsOnlyAndIsAppliedInOrderWhenRetried() throws Exception {
        publishDeposits();
        PulsarStreamableMessageSource source =
                PulsarStreamableMessageSource.builder()
                                             .pulsarClient(client)
                                             .topic(topic)
                                             .converter(Deposits.converter())
                                             .build();
        runParksAndRetries(processing -> processing.registerPooledStreamingEventProcessor("ledger", c -> source));
    }

    @Test
    void aSubscribingProcessorOnTheSubscribableSourceParksTheSameWayAndAcknowledgesWhatItParked() throws Exception {
        publishDeposits();
        PulsarSubscribableMessageSource source =
                PulsarSubscribableMessageSource.builder()
                                               .pulsarClient(client)
                                               .topic(topic)
                                               .subscription("ledger")
                                               .converter(Deposits.converter())
                                               .build();
        try {
            runParksAndRetries(processing -> processing.registerSubscribingEventProcessor("ledger", c -> source));
            // the parked events were acknowledged (the unit of work that parked them committed): nothing is held
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(source.handled()).isEqualTo(21));
        } finally {
            source.stop();
        }
    }

    /** 4 accounts x 5 deposits, a2's event 1 twice (an at-least-once relay). */
    private void publishDeposits() throws Exception {
        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl()).build();
        try (PulsarOutboxPublisher publisher = PulsarOutboxPublisher.builder().pulsarClient(client).build()) {
            List<OutboxEntry> rows = new ArrayList<>();
            for (int sequence = 0; sequence < 5; sequence++) {
                for (int account = 0; account < 4; account++) {
                    rows.add(Deposits.deposit("a" + account, sequence, 1));
                    if (account == 2 && sequence == 1) {
                        rows.add(Deposits.deposit("a" + account, sequence, 1));
                    }
                }
            }
            Deposits.publish(publisher, topic, rows);
        }
    }

    /**
     * Runs the processor the configurer registers, with the inbox and an in-memory dead-letter queue for its group:
     * a2's event 1 is refused, parked with a2's later events (its copy skipped by the inbox), the other accounts are
     * applied; once fixed, the parked sequence is applied, in order and once.
     */
    private void runParksAndRetries(java.util.function.Consumer<EventProcessingConfigurer> processor) {
        JdbcInbox inbox = JdbcInbox.builder().connectionProvider(db.connections()).build();
        inbox.createSchema();
        InboxInterceptor interceptor = new InboxInterceptor(inbox, "ledger");
        SequencedDeadLetterQueue<EventMessage<?>> deadLetters = InMemorySequencedDeadLetterQueue.defaultQueue();
        axon = DefaultConfigurer.defaultConfiguration()
                                .configureSerializer(c -> JacksonSerializer.defaultSerializer())
                                .configureTransactionManager(c -> db.transactions())
                                .registerComponent(org.axonframework.eventhandling.tokenstore.TokenStore.class,
                                                   c -> new InMemoryTokenStore())
                                .eventProcessing(processing -> {
                                    processor.accept(processing);
                                    processing.registerEventHandler(c -> new Ledger())
                                              .registerHandlerInterceptor("ledger", c -> interceptor)
                                              .registerDeadLetterQueue("ledger", c -> deadLetters);
                                })
                                .buildConfiguration();
        axon.start();

        // a2's event 1 is refused: it and a2's later events (2, 3, 4) are parked; the others are applied
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(applied).containsEntry("a0", List.of(0L, 1L, 2L, 3L, 4L))
                               .containsEntry("a1", List.of(0L, 1L, 2L, 3L, 4L))
                               .containsEntry("a3", List.of(0L, 1L, 2L, 3L, 4L));
            assertThat(deadLetters.sequenceSize("a2")).isEqualTo(4);
            assertThat(interceptor.duplicates()).as("the copy of a2's event 1").isEqualTo(1);
        });
        assertThat(applied.get("a2")).containsExactly(0L);
        assertThat(sequencesOf(deadLetters.deadLetterSequence("a2"))).containsExactly(1L, 2L, 3L, 4L);

        fixed = true; // the handler is fixed: the parked sequence is retried, in order, through the inbox
        org.axonframework.messaging.deadletter.SequencedDeadLetterProcessor<EventMessage<?>> letters =
                axon.eventProcessingConfiguration().sequencedDeadLetterProcessor("ledger").orElseThrow();
        assertThat(letters.processAny()).isTrue();
        assertThat(applied.get("a2")).containsExactly(0L, 1L, 2L, 3L, 4L);
        assertThat(deadLetters.size()).isZero();
        assertThat(inbox.count("ledger")).isEqualTo(20);
    }

    private static List<Long> sequencesOf(Iterable<DeadLetter<? extends EventMessage<?>>> letters) {
        return StreamSupport.stream(letters.spliterator(), false)
                            .map(letter -> ((org.axonframework.eventhandling.DomainEventMessage<?>) letter.message())
                                    .getSequenceNumber())
                            .toList();
    }

    @org.axonframework.config.ProcessingGroup("ledger")
    class Ledger {
        @EventHandler
        void on(Deposits.Deposited deposited, @SequenceNumber long sequence) {
            if (!fixed && deposited.account().equals("a2") && sequence == 1) {
                throw new IllegalStateException("refused: a bug in this handler");
            }
            applied.computeIfAbsent(deposited.account(), k -> new java.util.concurrent.CopyOnWriteArrayList<>())
                   .add(sequence);
        }
    }
}
