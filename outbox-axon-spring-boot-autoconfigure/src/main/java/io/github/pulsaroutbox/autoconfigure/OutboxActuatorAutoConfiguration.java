package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.OutboxConfigurerModule;
import io.github.pulsaroutbox.metrics.MicrometerOutboxMetrics;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.metrics.OutboxStatistics;
import io.github.pulsaroutbox.operations.OutboxOperations;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.pulsar.client.api.PulsarClient;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.time.Clock;

import javax.sql.DataSource;

/**
 * What the outbox-table mode shows operators, when the application has Actuator and Micrometer: the {@code outbox}
 * health indicator and group, the {@code outbox} endpoint (parked rows, retry, discard) and the
 * {@code pulsar.outbox.*} meters, over the beans of {@link OutboxAutoConfiguration}. Every bean backs off when the
 * application defines its own.
 */
@AutoConfiguration(after = OutboxAutoConfiguration.class)
@ConditionalOnClass({PulsarClient.class, org.axonframework.config.Configurer.class, DataSource.class})
@ConditionalOnProperty(prefix = "pulsar-outbox", name = "enabled", havingValue = "true", matchIfMissing = true)
@org.springframework.context.annotation.Conditional(DispatchModeCondition.OutboxTable.class)
class OutboxActuatorAutoConfiguration {

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterRegistry.class)
    static class MetricsConfiguration {

        @Bean
        @ConditionalOnMissingBean
        OutboxMetrics outboxMetrics(ObjectProvider<MeterRegistry> registry, ObjectProvider<OutboxStatistics> statistics) {
            MeterRegistry meterRegistry = registry.getIfAvailable();
            OutboxStatistics stats = statistics.getIfAvailable();
            if (meterRegistry == null || stats == null) {
                return OutboxMetrics.NOOP;
            }
            return new MicrometerOutboxMetrics(meterRegistry, stats);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(HealthIndicator.class)
    @ConditionalOnEnabledHealthIndicator("outbox")
    static class HealthConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "outboxHealthIndicator")
        HealthIndicator outboxHealthIndicator(ObjectProvider<OutboxStatistics> statistics,
                                              OutboxConfigurerModule module, OutboxProperties properties) {
            OutboxStatistics stats = statistics.getIfAvailable();
            if (stats == null) {
                return () -> Health.unknown().withDetail("reason", "the outbox store reports no statistics").build();
            }
            return new OutboxHealthIndicator(stats, module.relay(), properties.relay().enabled(), properties.health(),
                                             Clock.systemUTC());
        }

        /** The {@code outbox} health group, unless the application defines one by that name. */
        @Bean
        static org.springframework.boot.actuate.health.HealthEndpointGroupsPostProcessor outboxHealthGroup() {
            return new OutboxHealthGroup();
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(Endpoint.class)
    @ConditionalOnAvailableEndpoint(endpoint = OutboxEndpoint.class)
    static class EndpointConfiguration {

        @Bean
        @ConditionalOnMissingBean
        OutboxEndpoint outboxEndpoint(ObjectProvider<OutboxOperations> operations, OutboxConfigurerModule module,
                                      ObjectProvider<OutboxStatistics> statistics) {
            return new OutboxEndpoint(operations.getIfAvailable(() -> module.operations().orElse(null)),
                                      module.relay(), statistics.getIfAvailable());
        }
    }
}
