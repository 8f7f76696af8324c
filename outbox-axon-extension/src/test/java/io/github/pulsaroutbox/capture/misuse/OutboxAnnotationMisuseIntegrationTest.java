package io.github.pulsaroutbox.capture.misuse;

import io.github.pulsaroutbox.OutboxConfigurerModule;
import io.github.pulsaroutbox.PlainAxon;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.AggregateConfigurer;
import org.axonframework.config.Configuration;
import org.axonframework.config.Configurer;
import org.axonframework.modelling.command.Repository;
import org.axonframework.serialization.json.JacksonSerializer;
import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.Mockito.mock;

/** {@code @Outbox} where it would capture nothing fails the start, saying why and what to do. */
class OutboxAnnotationMisuseIntegrationTest {

    private final PlainAxon.H2Database database = PlainAxon.H2Database.create("misuse");
    private final TransactionManager transactionManager = database.transactions();
    private final ConnectionProvider connectionProvider = database.connections();

    @Test
    void outboxOnASubtypeOfAPolymorphicAggregateFailsTheStart() {
        Configurer configurer = configurer();
        configurer.configureAggregate(AggregateConfigurer.defaultConfiguration(Vehicle.class).withSubtypes(Car.class));
        module().configureModule(configurer);
        assertThatThrownBy(configurer::start)
                .rootCause()
                .isInstanceOf(AxonConfigurationException.class)
                .hasMessageContaining(Car.class.getName())
                .hasMessageContaining("Put @Outbox on the root class " + Vehicle.class.getName());
    }

    @Test
    @SuppressWarnings("unchecked")
    void outboxOnAStateStoredAggregateFailsTheStart() {
        Configurer configurer = configurer();
        configurer.configureAggregate(AggregateConfigurer.defaultConfiguration(Ledger.class)
                                                         .configureRepository(c -> mock(Repository.class)));
        module().configureModule(configurer);
        assertThatThrownBy(configurer::start)
                .rootCause()
                .isInstanceOf(AxonConfigurationException.class)
                .hasMessageContaining(Ledger.class.getName())
                .hasMessageContaining("state-stored");
    }

    @Test
    void polymorphicAggregateAnnotatedOnItsRootStarts() {
        Configurer configurer = configurer();
        configurer.configureAggregate(AggregateConfigurer.defaultConfiguration(AnnotatedVehicle.class)
                                                         .withSubtypes(AnnotatedVehicle.Truck.class));
        OutboxConfigurerModule module = module();
        module.configureModule(configurer);
        Configuration configuration = configurer.start();
        try {
            assertThat(module.capturedAggregates().types()).containsExactly("AnnotatedVehicle");
        } finally {
            configuration.shutdown();
        }
    }

    private Configurer configurer() {
        return PlainAxon.jdbcConfigurer(transactionManager, connectionProvider, JacksonSerializer.defaultSerializer());
    }

    private OutboxConfigurerModule module() {
        return database.captureOnly(JdbcOutboxStore.builder().connectionProvider(connectionProvider).build());
    }
}
