package io.github.pulsaroutbox.autoconfigure;

import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.common.transaction.TransactionManager;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxConfigurerModule;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.relay.FailurePolicy;
import io.github.pulsaroutbox.relay.OutboxPublisher;
import io.github.pulsaroutbox.relay.TopicResolver;
import io.github.pulsaroutbox.store.OutboxStore;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

class OutboxAutoConfigurationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class,
                                                     OutboxTailingAutoConfiguration.class,
                                                     DataSourceAutoConfiguration.class))
            // the application's client, reused as is (creating a real one only costs time here)
            .withBean(PulsarClient.class, () -> mock(PulsarClient.class))
            // the application's (Axon's autoconfiguration provides one over Spring's transaction manager)
            .withBean(TransactionManager.class, () -> mock(TransactionManager.class))
            .withPropertyValues("spring.datasource.generate-unique-name=true");

    @Test
    void registersTheOutboxByDefault() {
        runner.withPropertyValues("pulsar-outbox.topics.Order=shop/sales/orders").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(OutboxStore.class).hasSingleBean(TopicResolver.class)
                               .hasSingleBean(OutboxPublisher.class).hasSingleBean(OutboxConfigurerModule.class);
            assertThat(context.getBean(OutboxStore.class)).isInstanceOf(JdbcOutboxStore.class);
            assertThat(((JdbcOutboxStore) context.getBean(OutboxStore.class)).table()).isEqualTo("axon_outbox");
            // map keys keep their case: aggregate types are case-sensitive
            assertThat(context.getBean(TopicResolver.class).resolve("Order", Optional.empty()))
                    .contains("persistent://shop/sales/orders");
            OutboxProperties properties = context.getBean(OutboxProperties.class);
            assertThat(properties.relay().batchSize()).isEqualTo(500);
            assertThat(properties.relay().enabled()).isTrue();
            assertThat(properties.pulsar().batching()).isTrue();
            assertThat(properties.pulsar().registerSchemas()).isFalse();
            assertThat(properties.upcasting().enabled()).isTrue();
            assertThat(properties.retention().retainSent()).hasDays(7);
            assertThat(properties.retention().dutyCycle()).isEqualTo(0.2);
            assertThat(properties.retry().maxAttempts()).isEqualTo(10);
        });
    }

    @Test
    void retentionDutyCycleIsBoundAndOutOfRangeValuesFailTheStartWithThePropertyNamed() {
        runner.withPropertyValues("pulsar-outbox.topics.Order=shop/sales/orders",
                                  "pulsar-outbox.retention.duty-cycle=1")
              .run(context -> {
                  assertThat(context).hasNotFailed();
                  assertThat(context.getBean(OutboxProperties.class).retention().dutyCycle()).isEqualTo(1.0);
                  assertThat(context.getBean(OutboxConfigurerModule.class).retention()).isPresent();
              });
        for (String invalid : new String[] {"0", "0.001", "-0.5", "1.5"}) {
            runner.withPropertyValues("pulsar-outbox.topics.Order=shop/sales/orders",
                                      "pulsar-outbox.retention.duty-cycle=" + invalid)
                  .run(context -> assertThat(context).hasFailed().getFailure()
                          .hasStackTraceContaining(
                                  "pulsar-outbox.retention.duty-cycle must be at least 0.01 and at most 1"));
        }
    }

    @Test
    void tailingModeReplacesTheTableTheRelayAndTheirBeansWithTheTailingModule() {
        runner.withPropertyValues("pulsar-outbox.topics.Order=shop/sales/orders", "pulsar-outbox.mode=tailing",
                                  "pulsar-outbox.tailing.segments=8", "pulsar-outbox.tailing.start-position=tail")
              .run(context -> {
                  assertThat(context).hasNotFailed();
                  assertThat(context).hasSingleBean(io.github.pulsaroutbox.tailing.EventStoreTailingModule.class)
                                     .hasSingleBean(OutboxPublisher.class).hasSingleBean(TopicResolver.class)
                                     .doesNotHaveBean(OutboxConfigurerModule.class)
                                     .doesNotHaveBean(OutboxStore.class)
                                     .doesNotHaveBean(io.github.pulsaroutbox.operations.OutboxOperations.class);
                  OutboxProperties.Tailing tailing = context.getBean(OutboxProperties.class).tailing();
                  assertThat(tailing.segments()).isEqualTo(8);
                  assertThat(tailing.startPosition())
                          .isEqualTo(io.github.pulsaroutbox.tailing.EventStoreTailingModule.StartPosition.TAIL);
              });
        runner.withPropertyValues("pulsar-outbox.topics.Order=shop/sales/orders", "pulsar-outbox.mode=tailing",
                                  "pulsar-outbox.tailing.segments=0")
              .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                      .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                      .hasMessageContaining("pulsar-outbox.tailing").hasMessageContaining("segments"));
        runner.withPropertyValues("pulsar-outbox.topics.Order=shop/sales/orders", "pulsar-outbox.mode=tailing",
                                  "axon.eventhandling.processors.pulsar-outbox-tailing.dlq.enabled=true")
              .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                      .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                      .hasMessageContaining("axon.eventhandling.processors.pulsar-outbox-tailing.mode")
                      .hasMessageContaining("pooled"));
        runner.withPropertyValues("pulsar-outbox.topics.Order=shop/sales/orders", "pulsar-outbox.mode=tailing",
                                  "axon.eventhandling.processors.pulsar-outbox-tailing.dlq.enabled=true",
                                  "axon.eventhandling.processors.pulsar-outbox-tailing.mode=pooled")
              .run(context -> assertThat(context).hasNotFailed()
                      .hasSingleBean(io.github.pulsaroutbox.tailing.EventStoreTailingModule.class));
        runner.withPropertyValues("pulsar-outbox.topics.Order=shop/sales/orders", "pulsar-outbox.mode=tail-the-log")
              .run(context -> assertThat(context).hasFailed().getFailure()
                      .hasStackTraceContaining("pulsar-outbox.mode"));
        runner.withPropertyValues("pulsar-outbox.topics.Order=shop/sales/orders")
              .run(context -> assertThat(context)
                      .doesNotHaveBean(io.github.pulsaroutbox.tailing.EventStoreTailingModule.class)
                      .hasSingleBean(OutboxConfigurerModule.class));
    }

    @Test
    void ackTimeoutNotLongerThanTheSendTimeoutFailsTheStartNamingTheProperty() {
        runner.withPropertyValues("pulsar-outbox.topics.Order=shop/sales/orders",
                                  "pulsar-outbox.relay.ack-timeout=20s", "pulsar-outbox.pulsar.send-timeout=30s")
              .run(context -> {
                  assertThat(context).hasFailed();
                  assertThat(context.getStartupFailure()).rootCause()
                          .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                          .hasMessageContaining("pulsar-outbox.relay.ack-timeout")
                          .hasMessageContaining("pulsar-outbox.pulsar.send-timeout");
              });
        runner.withPropertyValues("pulsar-outbox.topics.Order=shop/sales/orders",
                                  "pulsar-outbox.relay.ack-timeout=20s", "pulsar-outbox.pulsar.send-timeout=0")
              .run(context -> assertThat(context).hasNotFailed()); // 0: no producer timeout, the relay's bounds
    }

    @Test
    void moreSendsInFlightThanAProducerQueueHoldsFailsTheStartNamingBothProperties() {
        runner.withPropertyValues("pulsar-outbox.topics.Order=shop/sales/orders",
                                  "pulsar-outbox.relay.max-in-flight=2000",
                                  "pulsar-outbox.pulsar.max-pending-messages=1000")
              .run(context -> {
                  assertThat(context).hasFailed();
                  assertThat(context.getStartupFailure()).rootCause()
                          .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                          .hasMessageContaining("pulsar-outbox.relay.max-in-flight")
                          .hasMessageContaining("pulsar-outbox.pulsar.max-pending-messages");
              });
        runner.withPropertyValues("pulsar-outbox.topics.Order=shop/sales/orders",
                                  "pulsar-outbox.relay.max-in-flight=1000",
                                  "pulsar-outbox.pulsar.max-pending-messages=1000")
              .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void withoutATransactionManagerTheStartFailsBecauseCaptureWouldNotBeAtomic() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class,
                                                         DataSourceAutoConfiguration.class))
                .withBean(PulsarClient.class, () -> mock(PulsarClient.class))
                .withPropertyValues("spring.datasource.generate-unique-name=true",
                                    "pulsar-outbox.topics.Order=shop/sales/orders")
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).rootCause()
                            .hasMessageContaining("needs the application's TransactionManager");
                });
    }

    @Test
    void retryOutcomesAndCurrentVersionsBindFromProperties() {
        runner.withPropertyValues("pulsar-outbox.retry.outcomes.message-too-large=discard",
                                  "pulsar-outbox.retry.max-attempts=3",
                                  "pulsar-outbox.upcasting.current-versions[com.acme.OrderPlaced]=4")
              .run(context -> {
                  assertThat(context).hasNotFailed();
                  OutboxProperties properties = context.getBean(OutboxProperties.class);
                  assertThat(properties.retry().outcomes())
                          .containsEntry(FailureKind.MESSAGE_TOO_LARGE, OutboxStore.Outcome.DISCARD);
                  assertThat(properties.upcasting().currentVersions()).containsEntry("com.acme.OrderPlaced", "4");
                  FailurePolicy policy = context.getBean(FailurePolicy.class);
                  OutboxEntry entry = OutboxEntry.pending("e", java.time.Instant.now(), "T", "A", "a", 0, "{}",
                                                          "{}", "0", null);
                  assertThat(policy.decide(entry, FailureKind.MESSAGE_TOO_LARGE, 1).outcome())
                          .isEqualTo(OutboxStore.Outcome.DISCARD);
                  assertThat(policy.decide(entry, FailureKind.TRANSIENT, 3).outcome())
                          .isEqualTo(OutboxStore.Outcome.PARK);
              });
    }

    @Test
    void invalidRetrySettingsFailNamingTheProperty() {
        runner.withPropertyValues("pulsar-outbox.retry.multiplier=0.5").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("pulsar-outbox.retry");
        });
    }

    @Test
    void canBeSwitchedOff() {
        runner.withPropertyValues("pulsar-outbox.enabled=false").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(OutboxStore.class).doesNotHaveBean(OutboxConfigurerModule.class);
        });
    }

    @Test
    void backsOffForApplicationBeans() {
        OutboxStore store = mock(OutboxStore.class);
        when(store.segmentCount()).thenReturn(16);
        OutboxPublisher publisher = mock(OutboxPublisher.class);
        runner.withBean(OutboxStore.class, () -> store)
              .withBean(OutboxPublisher.class, () -> publisher)
              .run(context -> {
                  assertThat(context).hasNotFailed();
                  assertThat(context.getBean(OutboxStore.class)).isSameAs(store);
                  assertThat(context.getBean(OutboxPublisher.class)).isSameAs(publisher);
                  assertThat(context).hasSingleBean(OutboxConfigurerModule.class);
              });
    }

    @Test
    void malformedTopicFailsNamingTheProperty() {
        runner.withPropertyValues("pulsar-outbox.topics.Order=not a topic").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause()
                                                   .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                                                   .hasMessageContaining("pulsar-outbox.topics.Order");
        });
    }

    @Test
    void malformedDefaultTopicFailsNamingTheProperty() {
        runner.withPropertyValues("pulsar-outbox.default-topic=a/b/c/{aggregateType}").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause()
                                                   .hasMessageContaining("pulsar-outbox.default-topic");
        });
    }

    @Test
    void invalidTableNameFailsNamingTheProperty() {
        runner.withPropertyValues("pulsar-outbox.table=outbox;drop").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause()
                                                   .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                                                   .hasMessageContaining("pulsar-outbox.table");
        });
    }
}
