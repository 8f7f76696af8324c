package io.github.pulsaroutbox.capture.deadline;

import io.github.pulsaroutbox.OutboxConfigurerModule;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.PlainAxon;
import io.github.pulsaroutbox.relay.OutboxPublisher;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.Configuration;
import org.axonframework.config.ConfigurationScopeAwareProvider;
import org.axonframework.config.Configurer;
import org.axonframework.config.DefaultConfigurer;
import org.axonframework.deadline.SimpleDeadlineManager;
import org.axonframework.eventsourcing.eventstore.inmemory.InMemoryEventStorageEngine;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.axonframework.spring.messaging.unitofwork.SpringTransactionManager;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Capture outside a database transaction is refused, so that outbox rows never commit on their own: on a connection
 * in auto-commit mode, in a plain-Axon module without a transaction manager, and in a deadline handler run by a
 * deadline manager that has no transaction manager (Axon's {@code SimpleDeadlineManager} as commonly configured).
 */
class NoTransactionCaptureIntegrationTest {

    private final JdbcDataSource dataSource = h2();
    private final TransactionManager transactionManager =
            new SpringTransactionManager(new DataSourceTransactionManager(dataSource));
    private final ConnectionProvider connectionProvider =
            new UnitOfWorkAwareConnectionProviderWrapper(new SpringDataSourceConnectionProvider(dataSource));
    private final JdbcOutboxStore store = JdbcOutboxStore.builder().connectionProvider(connectionProvider).build();
    private final JdbcTemplate jdbc = new JdbcTemplate(dataSource);

    @Test
    void appendInAUnitOfWorkOnAConnectionInAutoCommitModeIsRefusedAndWritesNothing() {
        store.createSchema();
        OutboxEntry entry = OutboxEntry.pending("e-1", Instant.now(), "Evt", "Order", "o-1", 0, "{}", "{}", "0", null);
        assertThatThrownBy(() -> DefaultUnitOfWork.startAndGet(null).execute(() -> store.append(List.of(entry))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("auto-commit");
        assertThat(store.count(OutboxStatus.PENDING)).isZero();
        transactionManager.executeInTransaction(() -> store.append(List.of(entry)));
        assertThat(store.count(OutboxStatus.PENDING)).isEqualTo(1);
    }

    @Test
    void plainAxonModuleWithoutATransactionManagerIsRefused() {
        assertThatThrownBy(() -> OutboxConfigurerModule.builder()
                                                       .store(store)
                                                       .serializer(JacksonSerializer.defaultSerializer())
                                                       .publisher(publisher())
                                                       .topicResolver((type, topic) -> topic)
                                                       .build())
                .isInstanceOf(AxonConfigurationException.class)
                .hasMessageContaining("TransactionManager");
    }

    @Test
    void eventStoreThatDoesNotShareTheDatabaseTransactionFailsTheStart() {
        Configurer configurer = DefaultConfigurer.defaultConfiguration()
                .configureTransactionManager(c -> transactionManager)
                .configureEmbeddedEventStore(c -> new InMemoryEventStorageEngine())
                .configureAggregate(Reminder.class);
        module(JacksonSerializer.defaultSerializer()).configureModule(configurer);
        assertThatThrownBy(configurer::start)
                .hasRootCauseInstanceOf(AxonConfigurationException.class)
                .rootCause()
                .hasMessageContaining("InMemoryEventStorageEngine")
                .hasMessageContaining("cannot be atomic")
                .hasMessageContaining("JPA or JDBC event store");
    }

    @Test
    void eventStoreOnAnotherDatabaseThanTheOutboxIsRefusedAtTheFirstCapture() {
        JdbcDataSource eventDatabase = h2();
        new ResourceDatabasePopulator(new ClassPathResource("axon-jdbc/h2-event-store.sql")).execute(eventDatabase);
        TransactionManager eventTransactions =
                new SpringTransactionManager(new DataSourceTransactionManager(eventDatabase));
        JacksonSerializer serializer = JacksonSerializer.defaultSerializer();
        Configurer configurer = PlainAxon.jdbcConfigurer(eventTransactions, new UnitOfWorkAwareConnectionProviderWrapper(
                new SpringDataSourceConnectionProvider(eventDatabase)), serializer).configureAggregate(Reminder.class);
        module(serializer).configureModule(configurer); // the outbox on this test's other database
        Configuration configuration = configurer.start();
        try {
            String id = "r-" + UUID.randomUUID();
            assertThatThrownBy(() -> configuration.commandGateway().sendAndWait(new Reminder.Create(id)))
                    .hasMessageContaining("auto-commit");
            assertThat(new JdbcTemplate(eventDatabase).queryForObject(
                    "SELECT COUNT(*) FROM DomainEventEntry WHERE aggregateIdentifier = ?", Long.class, id)).isZero();
            assertThat(outboxSequences(id)).isEmpty();
        } finally {
            configuration.shutdown();
        }
    }

    /**
     * Shutting the configuration down stops the relay, but a unit of work that still appends events afterwards (a
     * command that was under way, a component that stops later) must not commit them without their outbox rows.
     */
    @Test
    void eventsCommittedDuringAndAfterShutdownAreStillCaptured() {
        new ResourceDatabasePopulator(new ClassPathResource("axon-jdbc/h2-event-store.sql")).execute(dataSource);
        JacksonSerializer serializer = JacksonSerializer.defaultSerializer();
        Configurer configurer = PlainAxon.jdbcConfigurer(transactionManager, connectionProvider, serializer)
                                         .configureAggregate(Reminder.class);
        module(serializer).configureModule(configurer);
        Configuration configuration = configurer.start();
        String before = "r-" + UUID.randomUUID();
        configuration.commandGateway().sendAndWait(new Reminder.Create(before));
        configuration.shutdown();

        // a unit of work that was still running (Axon refuses new commands now) appends its event
        String after = "r-" + UUID.randomUUID();
        DefaultUnitOfWork<?> unitOfWork = DefaultUnitOfWork.startAndGet(null);
        unitOfWork.attachTransaction(transactionManager);
        unitOfWork.execute(() -> configuration.eventStore().publish(
                new GenericDomainEventMessage<>("Reminder", after, 0, new Reminder.Created(after))));

        assertThat(outboxSequences(before)).containsExactly(0L);
        assertThat(events(after)).containsExactly(0L);
        assertThat(outboxSequences(after)).containsExactly(0L);
    }

    private OutboxConfigurerModule module(JacksonSerializer serializer) {
        return OutboxConfigurerModule.builder()
                                     .store(store)
                                     .serializer(serializer)
                                     .publisher(publisher())
                                     .topicResolver((type, topic) -> topic)
                                     .transactionManager(transactionManager)
                                     .relayEnabled(false)
                                     .schemaInitializer(store::createSchema)
                                     .build();
    }

    @Test
    void deadlineHandlerRunWithoutATransactionFailsInsteadOfCapturingOutsideOne() throws Exception {
        String id = "r-" + UUID.randomUUID();
        runReminder(id, false);
        // the deadline's event is neither stored nor captured: nothing committed on its own
        assertThat(events(id)).containsExactly(0L);
        assertThat(outboxSequences(id)).containsExactly(0L);
    }

    @Test
    void deadlineHandlerRunInATransactionIsCapturedWithItsEvent() throws Exception {
        String id = "r-" + UUID.randomUUID();
        runReminder(id, true);
        assertThat(events(id)).containsExactly(0L, 1L);
        assertThat(outboxSequences(id)).containsExactly(0L, 1L);
    }

    /** Creates a reminder, schedules its deadline, and waits until the deadline's unit of work has ended. */
    private void runReminder(String id, boolean deadlineInTransaction) throws Exception {
        new ResourceDatabasePopulator(new ClassPathResource("axon-jdbc/h2-event-store.sql")).execute(dataSource);
        JacksonSerializer serializer = JacksonSerializer.defaultSerializer();
        CountDownLatch deadlineDone = new CountDownLatch(1);
        Configurer configurer = PlainAxon.jdbcConfigurer(transactionManager, connectionProvider, serializer)
                .configureDeadlineManager(c -> {
                    SimpleDeadlineManager.Builder builder = SimpleDeadlineManager
                            .builder().scopeAwareProvider(new ConfigurationScopeAwareProvider(c));
                    if (deadlineInTransaction) {
                        builder.transactionManager(transactionManager);
                    }
                    SimpleDeadlineManager manager = builder.build();
                    manager.registerHandlerInterceptor((unitOfWork, chain) -> {
                        unitOfWork.onCleanup(u -> deadlineDone.countDown());
                        return chain.proceed();
                    });
                    Reminder.deadlineManager = manager;
                    return manager;
                })
                .configureAggregate(Reminder.class);
        module(serializer).configureModule(configurer);
        Configuration configuration = configurer.start();
        configuration.deadlineManager(); // built now, so the aggregate can schedule with it
        try {
            configuration.commandGateway().sendAndWait(new Reminder.Create(id));
            configuration.commandGateway().sendAndWait(new Reminder.Schedule(id));
            assertThat(deadlineDone.await(30, TimeUnit.SECONDS)).as("the deadline ran").isTrue();
        } finally {
            configuration.shutdown();
        }
    }

    private List<Long> events(String aggregateId) {
        return jdbc.queryForList("SELECT sequenceNumber FROM DomainEventEntry WHERE aggregateIdentifier = ? "
                                         + "ORDER BY sequenceNumber", Long.class, aggregateId);
    }

    private List<Long> outboxSequences(String aggregateId) {
        return jdbc.queryForList("SELECT aggregate_sequence FROM " + store.table() + " WHERE aggregate_id = ? "
                                         + "ORDER BY aggregate_sequence", Long.class, aggregateId);
    }

    private static OutboxPublisher publisher() {
        return (entry, destination) -> CompletableFuture.completedFuture("ok");
    }

    private static JdbcDataSource h2() {
        JdbcDataSource dataSource = new JdbcDataSource();
        dataSource.setURL("jdbc:h2:mem:no-tx-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        return dataSource;
    }
}
