package io.github.pulsaroutbox.capture;

import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.gateway.EventGateway;
import org.axonframework.eventsourcing.eventstore.EventStore;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.OutboxStore;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import io.github.pulsaroutbox.testapp.OutboxTestApplication;
import io.github.pulsaroutbox.testapp.ShopCommands;
import io.github.pulsaroutbox.testapp.ShopEvents;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jpa.EntityManagerProvider;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventsourcing.eventstore.jpa.JpaEventStorageEngine;
import org.axonframework.serialization.Serializer;
import org.springframework.beans.factory.annotation.Qualifier;
import org.axonframework.springboot.util.RegisterDefaultEntities;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.jdbc.core.JdbcTemplate;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Atomic capture on a real database (H2): the outbox rows of a unit of work commit if and only if its events commit.
 * The relay is off so that the rows stay visible as written.
 */
@SpringBootTest(classes = {OutboxTestApplication.class, CaptureAtomicityIntegrationTest.ArmableStoreConfig.class},
        properties = {"pulsar-outbox.relay.enabled=false", "pulsar-outbox.topics.ShopOrder=capture-orders"})
class CaptureAtomicityIntegrationTest {

    @Autowired
    CommandGateway commandGateway;
    @Autowired
    EventGateway eventGateway;
    @Autowired
    EventStore eventStore;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    ArmableOutboxStore armableStore;
    @Autowired
    JdbcOutboxStore outboxStore;
    @Autowired
    ArmableEventStorageEngine armableEngine;

    @Test
    void eventsAndOutboxRowsCommitTogether() {
        String orderId = newId();
        commandGateway.sendAndWait(new ShopCommands.CreateOrder(orderId, "alice"));
        commandGateway.sendAndWait(new ShopCommands.AddLine(orderId, "book", 2));
        commandGateway.sendAndWait(new ShopCommands.AddLine(orderId, "pen", 5));

        List<? extends DomainEventMessage<?>> events = eventStore.readEvents(orderId).asStream().toList();
        List<Map<String, Object>> rows = outboxRows(orderId);
        assertThat(events).hasSize(3);
        assertThat(rows).extracting(r -> r.get("ID"))
                        .containsExactlyElementsOf(events.stream().map(DomainEventMessage::getIdentifier).toList());
        assertThat(rows).extracting(r -> ((Number) r.get("AGGREGATE_SEQUENCE")).longValue())
                        .containsExactly(0L, 1L, 2L);
        assertThat(rows).allSatisfy(r -> {
            assertThat(r.get("STATUS")).isEqualTo("PENDING");
            assertThat(r.get("AGGREGATE_TYPE")).isEqualTo("ShopOrder");
            assertThat(r.get("AGGREGATE_ID")).isEqualTo(orderId);
        });

        OutboxEntry created = outboxStore.find(events.get(0).getIdentifier()).orElseThrow().entry();
        assertThat(created.eventType()).isEqualTo(ShopEvents.OrderCreated.class.getName());
        assertThat(created.version()).isEqualTo(OutboxEntry.NO_REVISION);
        assertThat(created.payload()).contains("\"customer\":\"alice\"").contains(orderId);
        // the JPA event store keeps milliseconds, the outbox microseconds
        assertThat(created.timestamp().truncatedTo(ChronoUnit.MILLIS))
                .isEqualTo(events.get(0).getTimestamp().truncatedTo(ChronoUnit.MILLIS));
        OutboxEntry line = outboxStore.find(events.get(1).getIdentifier()).orElseThrow().entry();
        assertThat(line.eventType()).isEqualTo(ShopEvents.LineAdded.class.getName());
        assertThat(line.version()).isEqualTo("2");
        assertThat(line.payload()).contains("\"product\":\"book\"");
    }

    @Test
    void handlerFailingAfterApplyLeavesNeitherEventNorRow() {
        String orderId = newId();
        commandGateway.sendAndWait(new ShopCommands.CreateOrder(orderId, "bob"));

        assertThatThrownBy(() -> commandGateway.sendAndWait(new ShopCommands.AddLineThenFail(orderId)))
                .hasMessageContaining("on purpose");

        assertThat(eventStore.readEvents(orderId).asStream()).hasSize(1);
        assertThat(outboxRows(orderId)).hasSize(1);
    }

    @Test
    void failingOutboxInsertFailsTheCommandAndLeavesNoEvent() {
        String orderId = newId();
        commandGateway.sendAndWait(new ShopCommands.CreateOrder(orderId, "carol"));

        armableStore.failNextAppend.set(true);
        assertThatThrownBy(() -> commandGateway.sendAndWait(new ShopCommands.AddLine(orderId, "lamp", 1)))
                .hasMessageContaining("outbox insert failed on purpose");

        assertThat(eventStore.readEvents(orderId).asStream()).hasSize(1);
        assertThat(outboxRows(orderId)).hasSize(1);
        // the aggregate is still usable afterwards
        commandGateway.sendAndWait(new ShopCommands.AddLine(orderId, "lamp", 1));
        assertThat(eventStore.readEvents(orderId).asStream()).hasSize(2);
        assertThat(outboxRows(orderId)).hasSize(2);
    }

    @Test
    void failingEventStoreAppendAfterTheOutboxInsertLeavesNoOutboxRow() {
        String orderId = newId();
        commandGateway.sendAndWait(new ShopCommands.CreateOrder(orderId, "erin"));
        int appendsBefore = armableStore.appends.get();

        armableEngine.failNextAppend.set(true);
        assertThatThrownBy(() -> commandGateway.sendAndWait(new ShopCommands.AddLine(orderId, "kettle", 1)))
                .hasMessageContaining("event store append failed on purpose");

        // the outbox row was written (the interceptor runs first), then rolled back with the failed append
        assertThat(armableStore.appends.get()).isEqualTo(appendsBefore + 1);
        assertThat(eventStore.readEvents(orderId).asStream()).hasSize(1);
        assertThat(outboxRows(orderId)).hasSize(1);
        commandGateway.sendAndWait(new ShopCommands.AddLine(orderId, "kettle", 1));
        assertThat(eventStore.readEvents(orderId).asStream()).hasSize(2);
        assertThat(outboxRows(orderId)).hasSize(2);
    }

    @Test
    void duplicateAggregateSequenceIsRefusedAndLeavesOnlyTheFirstEventAndRow() {
        String orderId = newId();
        commandGateway.sendAndWait(new ShopCommands.CreateOrder(orderId, "dave"));

        // the same aggregate id again: the event store refuses sequence number 0 a second time
        assertThatThrownBy(() -> commandGateway.sendAndWait(new ShopCommands.CreateOrder(orderId, "mallory")));

        List<Map<String, Object>> rows = outboxRows(orderId);
        assertThat(rows).hasSize(1);
        assertThat(outboxStore.find((String) rows.get(0).get("ID")).orElseThrow().entry().payload()).contains("dave")
                                                                                           .doesNotContain("mallory");
        assertThat(eventStore.readEvents(orderId).asStream()).hasSize(1);
    }

    @Test
    void eventsOfOtherAggregatesAndNonAggregateEventsAreNotCaptured() {
        long before = countAll();
        String counterId = newId();
        commandGateway.sendAndWait(new ShopCommands.CreateCounter(counterId));
        commandGateway.sendAndWait(new ShopCommands.Increment(counterId));
        eventGateway.publish(new ShopEvents.Announcement("not from an aggregate"));

        assertThat(eventStore.readEvents(counterId).asStream()).hasSize(2);
        assertThat(outboxRows(counterId)).isEmpty();
        assertThat(countAll()).isEqualTo(before);
    }

    private List<Map<String, Object>> outboxRows(String aggregateId) {
        return jdbc.queryForList("SELECT * FROM axon_outbox WHERE aggregate_id = ? ORDER BY aggregate_sequence",
                                 aggregateId);
    }

    private long countAll() {
        return jdbc.queryForObject("SELECT COUNT(*) FROM axon_outbox", Long.class);
    }

    private static String newId() {
        return UUID.randomUUID().toString();
    }

    @TestConfiguration
    // Axon registers its event entities only with its own engine bean: register them for the armable one
    @RegisterDefaultEntities(packages = "org.axonframework.eventsourcing.eventstore.jpa")
    static class ArmableStoreConfig {
        @Bean
        JdbcOutboxStore jdbcOutboxStore(ConnectionProvider connectionProvider) {
            JdbcOutboxStore store = JdbcOutboxStore.builder().connectionProvider(connectionProvider).build();
            store.createSchema();
            return store;
        }

        @Bean
        @Primary
        ArmableOutboxStore outboxStore(JdbcOutboxStore delegate) {
            return new ArmableOutboxStore(delegate);
        }

        /** Axon's JPA engine as Spring Boot configures it, armable to fail the next append. */
        @Bean
        ArmableEventStorageEngine eventStorageEngine(@Qualifier("serializer") Serializer serializer,
                                                     @Qualifier("eventSerializer") Serializer eventSerializer,
                                                     EntityManagerProvider entityManagerProvider,
                                                     TransactionManager transactionManager) {
            return new ArmableEventStorageEngine(JpaEventStorageEngine.builder()
                                                                      .snapshotSerializer(serializer)
                                                                      .eventSerializer(eventSerializer)
                                                                      .entityManagerProvider(entityManagerProvider)
                                                                      .transactionManager(transactionManager));
        }
    }

    /** Axon's JPA storage engine that can be armed to fail its next append, after the outbox row was written. */
    static final class ArmableEventStorageEngine extends JpaEventStorageEngine {
        final AtomicBoolean failNextAppend = new AtomicBoolean();

        ArmableEventStorageEngine(JpaEventStorageEngine.Builder builder) {
            super(builder);
        }

        @Override
        protected void appendEvents(List<? extends EventMessage<?>> events, Serializer serializer) {
            if (failNextAppend.compareAndSet(true, false)) {
                throw new IllegalStateException("event store append failed on purpose");
            }
            super.appendEvents(events, serializer);
        }
    }

    /** Delegates to the JDBC store; can be armed to fail the next append. */
    static final class ArmableOutboxStore implements OutboxStore {
        final AtomicBoolean failNextAppend = new AtomicBoolean();
        final AtomicInteger appends = new AtomicInteger();
        private final OutboxStore delegate;

        ArmableOutboxStore(OutboxStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public void append(List<OutboxEntry> entries) {
            if (failNextAppend.compareAndSet(true, false)) {
                throw new IllegalStateException("outbox insert failed on purpose");
            }
            delegate.append(entries);
            appends.incrementAndGet();
        }

        @Override
        public List<OutboxEntry> fetchPending(int limit, Instant now) {
            return delegate.fetchPending(limit, now);
        }

        @Override
        public Set<String> markSent(Collection<String> ids, Instant sentAt) {
            return delegate.markSent(ids, sentAt);
        }

        @Override
        public void recordFailures(Collection<Failure> failures) {
            delegate.recordFailures(failures);
        }
    }
}
