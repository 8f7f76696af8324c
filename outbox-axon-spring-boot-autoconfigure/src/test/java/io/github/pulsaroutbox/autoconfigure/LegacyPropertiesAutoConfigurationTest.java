package io.github.pulsaroutbox.autoconfigure;

import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.common.transaction.TransactionManager;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

/** A property under the prefix used before the project had its own namespace fails the start, naming the new one. */
class LegacyPropertiesAutoConfigurationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LegacyPropertiesAutoConfiguration.class,
                                                     OutboxAutoConfiguration.class,
                                                     DataSourceAutoConfiguration.class))
            .withBean(PulsarClient.class, () -> mock(PulsarClient.class))
            // the application's (Axon's autoconfiguration provides one over Spring's transaction manager)
            .withBean(TransactionManager.class, () -> mock(TransactionManager.class))
            .withPropertyValues("spring.datasource.generate-unique-name=true");

    @Test
    void oldPrefixFailsTheStartNamingTheNewProperty() {
        runner.withPropertyValues("axon.outbox.topics.Order=shop/sales/orders").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure())
                    .rootCause()
                    .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                    .hasMessageContaining("axon.outbox.topics")
                    .hasMessageContaining("set pulsar-outbox.topics.");
        });
    }

    @Test
    void theAdviceKeepsTheCaseOfAMapKeySoThatItCanBeUsedAsGiven() {
        runner.withPropertyValues("axon.outbox.topics.Account=shop/sales/accounts").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure())
                    .rootCause()
                    .hasMessageContaining("set pulsar-outbox.topics.Account instead");
        });
    }

    @Test
    void theAdviceKeepsTheBracketsOfAMapKeyThatNeedsThem() {
        runner.withPropertyValues("axon.outbox.event-types[com.shop.OrderPlaced]=OrderPlaced").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure())
                    .rootCause()
                    .hasMessageContaining("set pulsar-outbox.event-types[com.shop.OrderPlaced] instead");
        });
    }

    @Test
    void oldPrefixFailsTheStartAlsoWhenTheOutboxIsDisabled() {
        runner.withPropertyValues("pulsar-outbox.enabled=false", "axon.outbox.relay.enabled=false").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure())
                    .rootCause()
                    .hasMessageContaining("set pulsar-outbox.relay.enabled instead");
        });
    }

    @Test
    void oldPrefixInEnvironmentVariableFormIsFoundToo() {
        runner.withInitializer(context -> context.getEnvironment().getPropertySources().replace(
                      StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                      new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                                                          Map.of("AXON_OUTBOX_RELAY_BATCHSIZE", "100"))))
              .run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("pulsar-outbox.relay.");
        });
    }

    @Test
    void otherAxonPropertiesAndTheNewPrefixStartNormally() {
        runner.withPropertyValues("axon.serializer.events=jackson", "axon.outboxing=irrelevant",
                                  "pulsar-outbox.topics.Order=shop/sales/orders")
              .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void replacementKeepsTheRestOfTheName() {
        assertThat(LegacyPropertiesAutoConfiguration.replacement("axon.outbox.retry.max-attempts"))
                .isEqualTo("pulsar-outbox.retry.max-attempts");
    }
}
