package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.receiving.OutboxMessageConverter;
import io.github.pulsaroutbox.receiving.PulsarStreamableMessageSource;
import io.github.pulsaroutbox.receiving.PulsarSubscribableMessageSource;
import io.github.pulsaroutbox.receiving.inbox.JdbcInbox;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.config.ConfigurerModule;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

class ReceivingAutoConfigurationTest {

    /** A receiving service's payload class. */
    public record Deposited(String account, long amount) {
    }

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ReceivingAutoConfiguration.class,
                                                     DataSourceAutoConfiguration.class))
            .withBean(PulsarClient.class, () -> mock(PulsarClient.class))
            .withPropertyValues("spring.datasource.generate-unique-name=true");

    /** The deepest cause, or the failure itself when it has none (thrown before any bean wraps it). */
    private static Throwable rootOrSelf(Throwable failure) {
        assertThat(failure).as("the start failed").isNotNull();
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    @Test
    void staysAwayWhenNothingIsConfigured() {
        runner.run(context -> assertThat(context).hasNotFailed()
                                                 .doesNotHaveBean(OutboxMessageConverter.class)
                                                 .doesNotHaveBean(PulsarStreamableMessageSource.class)
                                                 .doesNotHaveBean(JdbcInbox.class));
    }

    @Nested
    class Sources {

        @Test
        void areBeansNamedAfterTheirEntriesStreamableByDefault() {
            runner.withPropertyValues("pulsar-outbox.receiving.sources.orders.topics=shop/sales/orders",
                                      "pulsar-outbox.receiving.sources.payments.topics[0]=payments",
                                      "pulsar-outbox.receiving.sources.payments.mode=subscribable",
                                      "pulsar-outbox.receiving.types.Deposited=" + Deposited.class.getName())
                  .run(context -> {
                      assertThat(context).hasNotFailed().hasSingleBean(OutboxMessageConverter.class);
                      assertThat(context.getBean("orders")).isInstanceOf(PulsarStreamableMessageSource.class);
                      assertThat(context.getBean("payments")).isInstanceOf(PulsarSubscribableMessageSource.class);
                      assertThat(context).doesNotHaveBean(JdbcInbox.class);
                  });
        }

        @Test
        void withoutATopicOrWithAnInvalidOneFailTheStartNamingTheProperty() {
            runner.withPropertyValues("pulsar-outbox.receiving.sources.orders.mode=streamable")
                  .run(context -> assertThat(rootOrSelf(context.getStartupFailure()))
                          .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                          .hasMessageContaining("pulsar-outbox.receiving.sources.orders.topics"));
            runner.withPropertyValues("pulsar-outbox.receiving.sources.orders.topics=a/b/c/d/e")
                  .run(context -> assertThat(rootOrSelf(context.getStartupFailure()))
                          .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                          .hasMessageContaining("pulsar-outbox.receiving.sources.orders.topics"));
            runner.withPropertyValues("pulsar-outbox.receiving.sources.orders.topics=orders",
                                      "pulsar-outbox.receiving.sources.orders.partition-check-interval=0s")
                  .run(context -> assertThat(rootOrSelf(context.getStartupFailure()))
                          .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                          .hasMessageContaining("pulsar-outbox.receiving.sources.orders.partition-check-interval"));
        }

        @Test
        void aTypeMappedToAClassThatDoesNotExistFailsTheStartNamingTheProperty() {
            runner.withPropertyValues("pulsar-outbox.receiving.sources.orders.topics=orders",
                                      "pulsar-outbox.receiving.types.Deposited=com.example.Nope")
                  .run(context -> assertThat(rootOrSelf(context.getStartupFailure()))
                          .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                          .hasMessageContaining("pulsar-outbox.receiving.types.Deposited"));
        }
    }

    @Nested
    class TheInbox {

        @Test
        void isCreatedOnTheEmbeddedDatabaseWithAnInterceptorModuleAndRetention() {
            runner.withPropertyValues("pulsar-outbox.receiving.inbox.processors=billing,audit")
                  .run(context -> {
                      assertThat(context).hasNotFailed().hasSingleBean(JdbcInbox.class)
                                         .hasBean("pulsarOutboxInboxModule")
                                         .hasSingleBean(InboxRetention.class);
                      JdbcInbox inbox = context.getBean(JdbcInbox.class);
                      // the table exists: records are written and counted (auto-commit outside a transaction)
                      assertThat(inbox.firstHandling("billing", "e-1", Instant.now())).isTrue();
                      assertThat(inbox.firstHandling("billing", "e-1", Instant.now())).isFalse();
                      assertThat(inbox.count("billing")).isEqualTo(1);
                  });
        }

        @Test
        void anInvalidTableNameFailsTheStartNamingTheProperty() {
            runner.withPropertyValues("pulsar-outbox.receiving.inbox.processors=billing",
                                      "pulsar-outbox.receiving.inbox.table=inbox; DROP TABLE x")
                  .run(context -> assertThat(rootOrSelf(context.getStartupFailure()))
                          .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                          .hasMessageContaining("pulsar-outbox.receiving.inbox.table"));
        }
    }

    @Nested
    class Observability {

        @Test
        void metersAndHealthCoverTheSubscribableSourcesAndTheInboxProcessors() {
            runner.withPropertyValues("pulsar-outbox.receiving.sources.payments.topics=payments",
                                      "pulsar-outbox.receiving.sources.payments.mode=subscribable",
                                      "pulsar-outbox.receiving.sources.orders.topics=orders",
                                      "pulsar-outbox.receiving.inbox.processors=billing",
                                      "axon.eventhandling.processors.shipping.source=orders")
                  .run(context -> {
                      assertThat(context).hasNotFailed().hasSingleBean(ReceivingMetrics.class)
                                         .hasBean("pulsarOutboxReceivingHealthIndicator");
                      SimpleMeterRegistry registry = new SimpleMeterRegistry();
                      context.getBean(ReceivingMetrics.class).bindTo(registry);
                      assertThat(registry.get("pulsar.outbox.receiving.handled").tag("source", "payments")
                                         .functionCounter().count()).isZero();
                      assertThat(registry.get("pulsar.outbox.receiving.skipped").tag("source", "payments")
                                         .functionCounter().count()).isZero();
                      assertThat(registry.get("pulsar.outbox.receiving.connected").tag("source", "payments")
                                         .gauge().value()).isZero();
                      assertThat(registry.find("pulsar.outbox.receiving.handled").tag("source", "orders").meter())
                              .as("a streamable source's progress is its processor's").isNull();
                      assertThat(registry.get("pulsar.outbox.inbox.duplicates").tag("processor", "billing")
                                         .functionCounter().count()).isZero();
                      assertThat(registry.get("pulsar.outbox.receiving.dead-letters").tag("group", "shipping")
                                         .gauge().value()).as("no dead-letter queue").isZero();
                      assertThat(registry.get("pulsar.outbox.receiving.dead-letters").tag("group", "billing")
                                         .gauge().value()).isZero();

                      Health health = context.getBean("pulsarOutboxReceivingHealthIndicator", HealthIndicator.class)
                                             .health();
                      assertThat(health.getStatus()).as("no processor subscribed yet").isEqualTo(Status.UP);
                      assertThat(health.getDetails()).containsKeys("sources", "inboxDuplicates");
                  });
        }

        @Test
        void theReceivingEndpointServesTheProcessorsBoundToSourcesWhenExposed() {
            runner.withPropertyValues("pulsar-outbox.receiving.sources.orders.topics=orders",
                                      "axon.eventhandling.processors.billing.source=orders",
                                      "management.endpoints.web.exposure.include=receiving")
                  .run(context -> {
                      assertThat(context).hasSingleBean(ReceivingEndpoint.class);
                      assertThat(context.getBean(ReceivingDeadLetters.class).groups()).containsExactly("billing");
                  });
            runner.withPropertyValues("pulsar-outbox.receiving.sources.orders.topics=orders")
                  .run(context -> assertThat(context).as("not exposed")
                                                     .doesNotHaveBean(ReceivingEndpoint.class));
        }

        @Test
        @SuppressWarnings("unchecked")
        void eachReceivingGroupHandlesInAnObservationWhenTheApplicationHasARegistry() {
            io.micrometer.observation.ObservationRegistry registry =
                    io.micrometer.observation.ObservationRegistry.create();
            registry.observationConfig().observationHandler(context -> true);
            runner.withPropertyValues("pulsar-outbox.receiving.sources.orders.topics=orders",
                                      "axon.eventhandling.processors.billing.source=orders")
                  .withBean(io.micrometer.observation.ObservationRegistry.class, () -> registry)
                  .run(context -> {
                      ConfigurerModule module = context.getBean("pulsarOutboxReceiveObservationsModule",
                                                                ConfigurerModule.class);
                      org.axonframework.config.Configurer configurer =
                              org.mockito.Mockito.mock(org.axonframework.config.Configurer.class);
                      org.axonframework.config.EventProcessingConfigurer processing =
                              org.mockito.Mockito.mock(org.axonframework.config.EventProcessingConfigurer.class);
                      module.configureModule(configurer);
                      org.mockito.ArgumentCaptor<java.util.function.Consumer<
                              org.axonframework.config.EventProcessingConfigurer>> captor =
                              org.mockito.ArgumentCaptor.forClass(java.util.function.Consumer.class);
                      org.mockito.Mockito.verify(configurer).eventProcessing(captor.capture());
                      captor.getValue().accept(processing);
                      org.mockito.ArgumentCaptor<java.util.function.Function<org.axonframework.config.Configuration,
                              org.axonframework.messaging.MessageHandlerInterceptor<? super
                                      org.axonframework.eventhandling.EventMessage<?>>>> interceptor =
                              org.mockito.ArgumentCaptor.forClass(java.util.function.Function.class);
                      org.mockito.Mockito.verify(processing).registerHandlerInterceptor(
                              org.mockito.ArgumentMatchers.eq("billing"), interceptor.capture());
                      assertThat(interceptor.getValue().apply(null))
                              .isInstanceOf(io.github.pulsaroutbox.receiving.ReceiveObservations.class);
                      assertThat(module.order()).as("outside the inbox").isLessThan(0);
                  });
        }

        @Test
        void theLagIsReadWithTheApplicationsPulsarAdministrationEveryPositiveInterval() {
            ApplicationContextRunner withAdmin = runner.withBean(
                    org.springframework.pulsar.core.PulsarAdministration.class,
                    () -> new org.springframework.pulsar.core.PulsarAdministration("http://localhost:1"));
            withAdmin.withPropertyValues("pulsar-outbox.receiving.sources.orders.topics=orders")
                     .run(context -> assertThat(context).hasSingleBean(ReceivingLag.class));
            withAdmin.withPropertyValues("pulsar-outbox.receiving.sources.orders.topics=orders",
                                         "pulsar-outbox.receiving.lag-interval=0s")
                     .run(context -> assertThat(rootOrSelf(context.getStartupFailure()))
                             .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                             .hasMessageContaining("pulsar-outbox.receiving.lag-interval"));
            runner.withPropertyValues("pulsar-outbox.receiving.sources.orders.topics=orders")
                  .run(context -> assertThat(context).as("no administration").doesNotHaveBean(ReceivingLag.class));
        }

        @Test
        void theInterceptorsTheProcessorsGetAreTheOnesCounted() {
            runner.withPropertyValues("pulsar-outbox.receiving.inbox.processors=billing,audit")
                  .run(context -> assertThat(context.getBean(InboxInterceptors.class).byProcessor())
                          .containsOnlyKeys("billing", "audit"));
        }

        @Test
        void healthCanBeSwitchedOffAsAnyIndicator() {
            runner.withPropertyValues("pulsar-outbox.receiving.inbox.processors=billing",
                                      "management.health.pulsarOutboxReceiving.enabled=false")
                  .run(context -> assertThat(context).hasNotFailed()
                                                     .doesNotHaveBean("pulsarOutboxReceivingHealthIndicator"));
        }
    }
}
