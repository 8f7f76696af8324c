package io.github.pulsaroutbox.receiving;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.PlainAxon;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import io.github.pulsaroutbox.receiving.inbox.InboxInterceptor;
import io.github.pulsaroutbox.receiving.inbox.JdbcInbox;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.PropagatingErrorHandler;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.eventhandling.SimpleEventHandlerInvoker;
import org.axonframework.eventhandling.SubscribingEventProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Outbox → Pulsar → inbox on the real broker and H2: events the outbox's publisher sent (some twice, as an
 * at-least-once relay can) reach a subscribing processor through the source, in aggregate order, and the inbox applies
 * each once to a projection in the same transaction; a handler failure is retried in place without the aggregate's
 * next event overtaking it; a message this library did not publish is skipped.
 */
class PulsarSubscribableMessageSourceIntegrationTest {

    private final String topic = "persistent://public/default/receiving-" + UUID.randomUUID();
    private final PlainAxon.H2Database db = PlainAxon.H2Database.create("receiving");
    private PulsarClient client;
    private PulsarOutboxPublisher publisher;
    private PulsarSubscribableMessageSource source;
    private SubscribingEventProcessor processor;
    private TotalsTable table;

    @BeforeEach
    void setUp() throws Exception {
        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl()).build();
        publisher = PulsarOutboxPublisher.builder().pulsarClient(client).build();
        table = new TotalsTable(db.dataSource(), db.connections());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (processor != null) {
            processor.shutDown();
        }
        publisher.close();
        client.close();
    }

    @Test
    void eachPublishedEventIsAppliedOnceInAggregateOrderThroughTheInbox() throws Exception {
        JdbcInbox inbox = JdbcInbox.builder().connectionProvider(db.connections()).build();
        inbox.createSchema();
        Projection projection = new Projection("a3", 4);
        source = PulsarSubscribableMessageSource.builder()
                                                .pulsarClient(client)
                                                .topic(topic)
                                                .subscription("totals")
                                                .converter(Deposits.converter())
                                                .backoff(Duration.ofMillis(20), Duration.ofMillis(200))
                                                .build();
        processor = SubscribingEventProcessor.builder()
                                             .name("totals")
                                             .eventHandlerInvoker(SimpleEventHandlerInvoker.builder()
                                                                                           .eventHandlers(projection)
                                                                                           .listenerInvocationErrorHandler(
                                                                                                   PropagatingErrorHandler.instance())
                                                                                           .build())
                                             .messageSource(source)
                                             .transactionManager(db.transactions())
                                             .build();
        InboxInterceptor interceptor = new InboxInterceptor(inbox, "totals");
        processor.registerHandlerInterceptor(interceptor);

        // 10 accounts x 8 deposits; every third event published twice (an at-least-once relay), one foreign message
        Map<String, Long> expected = new HashMap<>();
        List<OutboxEntry> rows = new ArrayList<>();
        int duplicates = 0;
        for (int sequence = 0; sequence < 8; sequence++) {
            for (int account = 0; account < 10; account++) {
                long amount = 1 + account * 10L + sequence;
                OutboxEntry row = Deposits.deposit("a" + account, sequence, amount);
                expected.merge("a" + account, amount, Long::sum);
                rows.add(row);
                if ((sequence * 10 + account) % 3 == 0) {
                    rows.add(row);
                    duplicates++;
                }
            }
        }
        Deposits.publish(publisher, topic, rows);
        int messages = rows.size();
        try (Producer<byte[]> foreign = client.newProducer(Schema.BYTES).topic(topic).create()) {
            foreign.newMessage().key("a1").value("not an outbox event".getBytes()).send();
            messages++;
        }

        processor.start();

        int total = messages;
        await().atMost(Duration.ofSeconds(60))
               .untilAsserted(() -> assertThat(source.handled() + source.skipped()).isEqualTo(total));
        assertThat(source.skipped()).as("the foreign message").isEqualTo(1);
        assertThat(interceptor.duplicates()).as("copies skipped by the inbox").isEqualTo(duplicates);
        assertThat(projection.failures).as("the failure was retried").hasSize(1);
        assertThat(table.outOfOrder).as("events applied out of aggregate order").isEmpty();
        assertThat(table.totals()).isEqualTo(expected);
        assertThat(inbox.count("totals")).isEqualTo(80);
    }

    /** Totals per account in the handlers' transaction; fails once at one event; notes any gap in the sequence. */
    class Projection {
        final List<String> failures = new CopyOnWriteArrayList<>();
        private final String failingAccount;
        private final long failingSequence;
        private final AtomicBoolean failed = new AtomicBoolean();

        Projection(String failingAccount, long failingSequence) {
            this.failingAccount = failingAccount;
            this.failingSequence = failingSequence;
        }

        @EventHandler
        void on(Deposits.Deposited deposited, @SequenceNumber long sequence) throws Exception {
            table.apply(deposited, sequence);
            if (deposited.account().equals(failingAccount) && sequence == failingSequence
                    && failed.compareAndSet(false, true)) {
                failures.add(deposited.account() + " " + sequence);
                throw new IllegalStateException("a passing failure, after the write: rolled back with it");
            }
        }
    }
}
