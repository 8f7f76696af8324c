package io.github.pulsaroutbox.autoconfigure;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.pulsaroutbox.pulsar.DeduplicationSettings;
import io.github.pulsaroutbox.relay.OutboxPublisher;
import io.github.pulsaroutbox.relay.TopicResolver;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.serialization.Serializer;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

import java.time.Clock;

import javax.sql.DataSource;

import static io.github.pulsaroutbox.autoconfigure.OutboxAutoConfiguration.deduplicationCheck;
import static io.github.pulsaroutbox.autoconfigure.OutboxAutoConfiguration.jsonSerializer;

/**
 * Spring Boot autoconfiguration of the tailing dispatch mode ({@code pulsar-outbox.mode=tailing}): no outbox table; a
 * pooled streaming processor on Axon's event store publishes with the publisher and topic resolver of
 * {@link OutboxAutoConfiguration}, checks broker deduplication of its topics at start, and reports under the same
 * {@code outbox} health indicator, group and endpoint names as the table mode. Every bean backs off when the
 * application defines its own.
 */
@AutoConfiguration(after = OutboxAutoConfiguration.class)
@ConditionalOnClass({PulsarClient.class, org.axonframework.config.Configurer.class, DataSource.class})
@ConditionalOnProperty(prefix = "pulsar-outbox", name = "enabled", havingValue = "true", matchIfMissing = true)
@org.springframework.context.annotation.Conditional(DispatchModeCondition.Tailing.class)
class OutboxTailingAutoConfiguration {

    /** The tailing dispatch mode ({@code pulsar-outbox.mode=tailing}): no outbox table, a processor on the store. */
    @Bean
    @ConditionalOnMissingBean
    @org.springframework.context.annotation.Conditional(DispatchModeCondition.Tailing.class)
    io.github.pulsaroutbox.tailing.EventStoreTailingModule outboxTailingModule(
            OutboxProperties properties, OutboxPublisher publisher, TopicResolver topicResolver,
            @Qualifier("eventSerializer") ObjectProvider<Serializer> eventSerializer,
            ObjectProvider<ObjectMapper> objectMapper, ObjectProvider<DeduplicationSettings> deduplicationSettings,
            Environment environment) {
        OutboxProperties.Tailing tailing = properties.tailing();
        // Axon registers a processor for every name under axon.eventhandling.processors (e.g. to enable its
        // dead-letter queue): then this one must be pooled, and the module configures it rather than registering it
        String axonPrefix = "axon.eventhandling.processors." + tailing.processorName();
        boolean registeredByAxon = org.springframework.boot.context.properties.bind.Binder.get(environment)
                .bind(axonPrefix, org.springframework.boot.context.properties.bind.Bindable.mapOf(String.class,
                                                                                              Object.class))
                .isBound();
        String axonMode = environment.getProperty(axonPrefix + ".mode", "tracking");
        if (registeredByAxon && !axonMode.trim().equalsIgnoreCase("pooled")) {
            throw new InvalidConfigurationPropertyValueException(
                    axonPrefix + ".mode", axonMode, "The outbox's tailing processor is a pooled streaming processor: "
                            + "with Axon's processor properties for it, set its mode to pooled");
        }
        try {
            return io.github.pulsaroutbox.tailing.EventStoreTailingModule.builder()
                    .serializer(jsonSerializer(eventSerializer, objectMapper))
                    .publisher(publisher)
                    .topicResolver(topicResolver)
                    .processorName(tailing.processorName())
                    .segments(tailing.segments())
                    .batchSize(tailing.batchSize())
                    .startPosition(tailing.startPosition())
                    .ackTimeout(tailing.ackTimeout())
                    .maxAttempts(tailing.maxAttempts())
                    .registerProcessor(!registeredByAxon)
                    .balanceHeartbeat(tailing.balanceHeartbeat().isZero() ? null : tailing.balanceHeartbeat())
                    .topicCheck(deduplicationCheck(properties, deduplicationSettings, environment))
                    .build();
        } catch (AxonConfigurationException e) {
            throw new InvalidConfigurationPropertyValueException("pulsar-outbox.tailing", tailing, e.getMessage());
        }
    }

    /** Refuses, at start, a JPA event store on Hibernate whose positions can contradict aggregate sequences. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"org.hibernate.engine.spi.SessionFactoryImplementor",
                                "jakarta.persistence.EntityManagerFactory"})
    @org.springframework.context.annotation.Conditional(DispatchModeCondition.Tailing.class)
    static class EventPositionsConfiguration {

        @Bean
        EventPositionsCheck outboxEventPositionsCheck(
                ObjectProvider<org.axonframework.eventsourcing.eventstore.EventStorageEngine> engine,
                ObjectProvider<jakarta.persistence.EntityManagerFactory> entityManagerFactory,
                OutboxProperties properties) {
            return new EventPositionsCheck(engine, entityManagerFactory, properties.tailing().allowPooledPositions());
        }
    }

    /** The {@code outbox} health indicator and group in the tailing mode. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(HealthIndicator.class)
    @ConditionalOnEnabledHealthIndicator("outbox")
    @org.springframework.context.annotation.Conditional(DispatchModeCondition.Tailing.class)
    static class TailingHealthConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "outboxHealthIndicator")
        HealthIndicator outboxHealthIndicator(
                io.github.pulsaroutbox.tailing.EventStoreTailingModule module,
                ObjectProvider<org.axonframework.config.EventProcessingConfiguration> eventProcessing,
                OutboxProperties properties) {
            return new TailingHealthIndicator(
                    module, () -> java.util.Optional.ofNullable(eventProcessing.getIfAvailable())
                                                    .flatMap(config -> config.eventProcessor(module.processorName())),
                    properties.health(), Clock.systemUTC());
        }

        /** The {@code outbox} health group, unless the application defines one by that name. */
        @Bean
        static org.springframework.boot.actuate.health.HealthEndpointGroupsPostProcessor outboxHealthGroup() {
            return new OutboxHealthGroup();
        }
    }

    /** The {@code outbox} endpoint in the tailing mode: the processor's dead letters. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(Endpoint.class)
    @ConditionalOnAvailableEndpoint(endpoint = OutboxDeadLetterEndpoint.class)
    @org.springframework.context.annotation.Conditional(DispatchModeCondition.Tailing.class)
    static class TailingEndpointConfiguration {

        @Bean
        @ConditionalOnMissingBean
        OutboxDeadLetterEndpoint outboxDeadLetterEndpoint(
                io.github.pulsaroutbox.tailing.EventStoreTailingModule module) {
            return new OutboxDeadLetterEndpoint(module);
        }
    }
}
