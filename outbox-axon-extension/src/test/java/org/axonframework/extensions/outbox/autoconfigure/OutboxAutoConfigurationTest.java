package org.axonframework.extensions.outbox.autoconfigure;

import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.extensions.outbox.FailureKind;
import org.axonframework.extensions.outbox.OutboxConfigurerModule;
import org.axonframework.extensions.outbox.OutboxEntry;
import org.axonframework.extensions.outbox.relay.FailurePolicy;
import org.axonframework.extensions.outbox.relay.OutboxPublisher;
import org.axonframework.extensions.outbox.relay.TopicResolver;
import org.axonframework.extensions.outbox.store.OutboxStore;
import org.axonframework.extensions.outbox.store.jdbc.JdbcOutboxStore;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

class OutboxAutoConfigurationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class, DataSourceAutoConfiguration.class))
            // the application's client, reused as is (creating a real one only costs time here)
            .withBean(PulsarClient.class, () -> mock(PulsarClient.class))
            .withPropertyValues("spring.datasource.generate-unique-name=true");

    @Test
    void registersTheOutboxByDefault() {
        runner.withPropertyValues("axon.outbox.topics.Order=shop/sales/orders").run(context -> {
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
            assertThat(properties.retry().maxAttempts()).isEqualTo(10);
        });
    }

    @Test
    void retryOutcomesAndCurrentVersionsBindFromProperties() {
        runner.withPropertyValues("axon.outbox.retry.outcomes.message-too-large=discard",
                                  "axon.outbox.retry.max-attempts=3",
                                  "axon.outbox.upcasting.current-versions[com.acme.OrderPlaced]=4")
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
        runner.withPropertyValues("axon.outbox.retry.multiplier=0.5").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("axon.outbox.retry");
        });
    }

    @Test
    void canBeSwitchedOff() {
        runner.withPropertyValues("axon.outbox.enabled=false").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(OutboxStore.class).doesNotHaveBean(OutboxConfigurerModule.class);
        });
    }

    @Test
    void backsOffForApplicationBeans() {
        OutboxStore store = mock(OutboxStore.class);
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
        runner.withPropertyValues("axon.outbox.topics.Order=not a topic").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause()
                                                   .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                                                   .hasMessageContaining("axon.outbox.topics.Order");
        });
    }

    @Test
    void malformedDefaultTopicFailsNamingTheProperty() {
        runner.withPropertyValues("axon.outbox.default-topic=a/b/c/{aggregateType}").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause()
                                                   .hasMessageContaining("axon.outbox.default-topic");
        });
    }

    @Test
    void invalidTableNameFailsNamingTheProperty() {
        runner.withPropertyValues("axon.outbox.table=outbox;drop").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause()
                                                   .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                                                   .hasMessageContaining("axon.outbox.table");
        });
    }
}
