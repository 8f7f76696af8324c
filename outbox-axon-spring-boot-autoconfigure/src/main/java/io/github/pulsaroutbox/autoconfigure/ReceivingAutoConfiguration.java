package io.github.pulsaroutbox.autoconfigure;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.pulsaroutbox.pulsar.PulsarTopics;
import io.github.pulsaroutbox.receiving.OutboxMessageConverter;
import io.github.pulsaroutbox.receiving.PulsarStreamableMessageSource;
import io.github.pulsaroutbox.receiving.PulsarSubscribableMessageSource;
import io.github.pulsaroutbox.receiving.ReceiveObservations;
import io.github.pulsaroutbox.receiving.inbox.InboxInterceptor;
import io.github.pulsaroutbox.receiving.inbox.JdbcInbox;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.ConfigurerModule;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.serialization.upcasting.event.EventUpcaster;
import org.axonframework.serialization.upcasting.event.EventUpcasterChain;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.autoconfigure.pulsar.PulsarAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.jdbc.EmbeddedDatabaseConnection;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

import java.time.Duration;
import java.util.Map;

import javax.sql.DataSource;

/**
 * Spring Boot autoconfiguration of the receiving side: a message source bean per {@code pulsar-outbox.receiving.sources}
 * entry (bound to processors by {@code axon.eventhandling.processors.<processor>.source=<name>}), the converter they
 * share ({@code pulsar-outbox.receiving.types}, the application's Jackson {@code ObjectMapper} and its
 * {@link EventUpcaster} beans), and the inbox for the processors listed in
 * {@code pulsar-outbox.receiving.inbox.processors} (on the application's {@code DataSource}, in the processors'
 * transactions), with its retention; the {@code receiving} Actuator endpoint on the receiving groups' parked events,
 * meters and health. Active only when a source or an inbox processor is configured; every bean backs
 * off when the application defines its own.
 */
@AutoConfiguration(after = {DataSourceAutoConfiguration.class, PulsarAutoConfiguration.class},
                   afterName = "org.axonframework.springboot.autoconfig.AxonAutoConfiguration")
@ConditionalOnClass({PulsarClient.class, org.axonframework.config.Configurer.class})
@Conditional(ReceivingConfigured.class)
@EnableConfigurationProperties(ReceivingProperties.class)
class ReceivingAutoConfiguration {

    @Bean
    static BeanDefinitionRegistryPostProcessor pulsarOutboxReceivingSources(Environment environment) {
        return new SourceRegistrar(environment);
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxMessageConverter pulsarOutboxMessageConverter(ReceivingProperties properties,
                                                        ObjectProvider<ObjectMapper> objectMapper,
                                                        ObjectProvider<EventUpcaster> upcasters) {
        OutboxMessageConverter.Builder builder = OutboxMessageConverter.builder().serializer(
                JacksonSerializer.builder().objectMapper(objectMapper.getIfAvailable(ObjectMapper::new).copy()).build());
        builder.upcasters(new EventUpcasterChain(upcasters.orderedStream().toList()));
        ClassLoader classLoader = Thread.currentThread().getContextClassLoader();
        properties.types().forEach((type, className) -> {
            String property = ReceivingProperties.PREFIX + ".types." + type;
            try {
                builder.type(type, Class.forName(className, false, classLoader));
            } catch (ClassNotFoundException | LinkageError e) {
                throw new InvalidConfigurationPropertyValueException(property, className, "No such class");
            } catch (AxonConfigurationException e) {
                throw new InvalidConfigurationPropertyValueException(property, className, e.getMessage());
            }
        });
        return builder.build();
    }

    @Bean
    @ConditionalOnMissingBean
    @Conditional(ReceivingConfigured.Inbox.class)
    JdbcInbox pulsarOutboxInbox(ReceivingProperties properties, ObjectProvider<ConnectionProvider> connectionProvider,
                                ObjectProvider<DataSource> dataSource) {
        ReceivingProperties.Inbox inbox = properties.inbox();
        ConnectionProvider connections = connectionProvider.getIfAvailable(
                () -> new UnitOfWorkAwareConnectionProviderWrapper(new SpringDataSourceConnectionProvider(
                        dataSource.getIfAvailable(() -> {
                            throw new IllegalStateException("The inbox needs a DataSource (or an Axon "
                                                                    + "ConnectionProvider bean)");
                        }))));
        JdbcInbox jdbcInbox;
        try {
            jdbcInbox = JdbcInbox.builder().connectionProvider(connections).table(inbox.table()).build();
        } catch (AxonConfigurationException e) {
            throw new InvalidConfigurationPropertyValueException(ReceivingProperties.PREFIX + ".inbox.table",
                                                                 inbox.table(), e.getMessage());
        }
        boolean create = switch (inbox.initializeSchema()) {
            case ALWAYS -> true;
            case NEVER -> false;
            case EMBEDDED -> dataSource.getIfAvailable() != null
                    && EmbeddedDatabaseConnection.isEmbedded(dataSource.getIfAvailable());
        };
        if (create) {
            jdbcInbox.createSchema();
        }
        return jdbcInbox;
    }

    @Bean
    @Conditional(ReceivingConfigured.Inbox.class)
    InboxInterceptors pulsarOutboxInboxInterceptors(ReceivingProperties properties, JdbcInbox inbox) {
        return new InboxInterceptors(inbox, properties.inbox().processors());
    }

    /** An {@link InboxInterceptor} on each processor of {@code pulsar-outbox.receiving.inbox.processors}. */
    @Bean
    @Conditional(ReceivingConfigured.Inbox.class)
    ConfigurerModule pulsarOutboxInboxModule(InboxInterceptors interceptors) {
        return configurer -> configurer.eventProcessing(processing -> interceptors.byProcessor().forEach(
                (processor, interceptor) -> processing.registerHandlerInterceptor(processor, c -> interceptor)));
    }

    /** The processing groups that read the receiving sources or use the inbox. */
    @Bean
    ReceivingGroups pulsarOutboxReceivingGroups(Environment environment, ReceivingProperties properties) {
        return ReceivingGroups.of(environment, properties.sources().keySet(), properties.inbox().processors());
    }

    /** The receiving groups' parked events, for the endpoint, the meters and the health. */
    @Bean
    @ConditionalOnMissingBean
    ReceivingDeadLetters pulsarOutboxReceivingDeadLetters(ReceivingGroups groups,
                                                          ObjectProvider<EventProcessingConfiguration> processing,
                                                          ObjectProvider<TransactionManager> transactions) {
        return new ReceivingDeadLetters(groups, processing, transactions);
    }

    /**
     * A {@link ReceiveObservations} on each receiving group's processor, outermost (before the inbox), when the
     * application has an {@link ObservationRegistry}: with a tracing bridge, handling continues the producer's trace.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(ObservationRegistry.class)
    static class ObservationConfiguration {

        @Bean
        ConfigurerModule pulsarOutboxReceiveObservationsModule(ReceivingGroups groups,
                                                               ObjectProvider<ObservationRegistry> registry) {
            return new ConfigurerModule() {
                @Override
                public void configureModule(org.axonframework.config.Configurer configurer) {
                    ObservationRegistry observations = registry.getIfAvailable();
                    if (observations == null || observations.isNoop()) {
                        return;
                    }
                    configurer.eventProcessing(processing -> groups.names().forEach(
                            group -> processing.registerHandlerInterceptor(
                                    group, c -> new ReceiveObservations(observations, group))));
                }

                @Override
                public int order() {
                    return -1; // before the inbox module: the inbox's work is inside the observation
                }
            };
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(Endpoint.class)
    @ConditionalOnAvailableEndpoint(endpoint = ReceivingEndpoint.class)
    static class EndpointConfiguration {

        @Bean
        @ConditionalOnMissingBean
        ReceivingEndpoint pulsarOutboxReceivingEndpoint(ReceivingDeadLetters deadLetters) {
            return new ReceivingEndpoint(deadLetters);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterRegistry.class)
    static class MetricsConfiguration {

        @Bean
        @ConditionalOnMissingBean
        ReceivingMetrics pulsarOutboxReceivingMetrics(ListableBeanFactory beans,
                                                      ObjectProvider<InboxInterceptors> interceptors,
                                                      ReceivingDeadLetters deadLetters) {
            return new ReceivingMetrics(beans.getBeansOfType(PulsarSubscribableMessageSource.class),
                                        interceptors.getIfAvailable(), deadLetters);
        }

        /** The lag per partition, read with Spring for Apache Pulsar's administration. */
        @Configuration(proxyBeanMethods = false)
        @ConditionalOnClass(name = "org.springframework.pulsar.core.PulsarAdministration")
        static class LagConfiguration {

            @Bean
            @ConditionalOnMissingBean
            @ConditionalOnBean(org.springframework.pulsar.core.PulsarAdministration.class)
            ReceivingLag pulsarOutboxReceivingLag(ReceivingProperties properties, ReceivingGroups groups,
                                                  org.springframework.pulsar.core.PulsarAdministration administration,
                                                  ObjectProvider<EventProcessingConfiguration> processing) {
                ReceivingLag.validate(properties.lagInterval());
                return new ReceivingLag(properties, groups, administration, processing);
            }
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(HealthIndicator.class)
    @ConditionalOnEnabledHealthIndicator("pulsarOutboxReceiving")
    static class HealthConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "pulsarOutboxReceivingHealthIndicator")
        HealthIndicator pulsarOutboxReceivingHealthIndicator(ListableBeanFactory beans,
                                                             ObjectProvider<InboxInterceptors> interceptors,
                                                             ReceivingDeadLetters deadLetters) {
            return new ReceivingHealthIndicator(beans.getBeansOfType(PulsarSubscribableMessageSource.class),
                                                interceptors.getIfAvailable(), deadLetters);
        }
    }

    @Bean
    @ConditionalOnMissingBean
    @Conditional(ReceivingConfigured.Inbox.class)
    InboxRetention pulsarOutboxInboxRetention(ReceivingProperties properties, JdbcInbox inbox) {
        return new InboxRetention(inbox, properties.inbox().retention(), properties.inbox().retentionInterval());
    }

    /** Registers a source bean per configured source, named after it, validated first. */
    static final class SourceRegistrar implements BeanDefinitionRegistryPostProcessor {

        private final Environment environment;

        SourceRegistrar(Environment environment) {
            this.environment = environment;
        }

        @Override
        public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) {
            Map<String, ReceivingProperties.Source> sources = Binder.get(environment).bind(
                    ReceivingProperties.PREFIX + ".sources",
                    Bindable.mapOf(String.class, ReceivingProperties.Source.class)).orElse(Map.of());
            sources.forEach((name, source) -> {
                validate(name, source);
                if (registry.containsBeanDefinition(name)) {
                    return; // the application's own bean of that name wins
                }
                boolean streamable = source.mode() == ReceivingProperties.SourceMode.STREAMABLE;
                RootBeanDefinition definition = new RootBeanDefinition(
                        streamable ? PulsarStreamableMessageSource.class : PulsarSubscribableMessageSource.class);
                BeanFactory beans = (BeanFactory) registry;
                definition.setInstanceSupplier(() -> streamable ? streamable(beans, source)
                                                                : subscribable(beans, name, source));
                if (!streamable) {
                    definition.setDestroyMethodName("stop");
                }
                registry.registerBeanDefinition(name, definition);
            });
        }

        private static void validate(String name, ReceivingProperties.Source source) {
            String property = ReceivingProperties.PREFIX + ".sources." + name + ".topics";
            if (source.topics().isEmpty()) {
                throw new InvalidConfigurationPropertyValueException(property, source.topics(),
                                                                     "A source reads at least one topic");
            }
            for (String topic : source.topics()) {
                try {
                    PulsarTopics.normalize(topic);
                } catch (IllegalArgumentException e) {
                    throw new InvalidConfigurationPropertyValueException(property, topic, e.getMessage());
                }
            }
            Duration interval = source.partitionCheckInterval();
            if (interval == null || interval.isNegative() || interval.isZero()) {
                throw new InvalidConfigurationPropertyValueException(
                        ReceivingProperties.PREFIX + ".sources." + name + ".partition-check-interval", interval,
                        "It must be positive");
            }
        }

        private static PulsarStreamableMessageSource streamable(BeanFactory beans, ReceivingProperties.Source source) {
            PulsarStreamableMessageSource.Builder builder =
                    PulsarStreamableMessageSource.builder().pulsarClient(beans.getBean(PulsarClient.class))
                                                 .converter(beans.getBean(OutboxMessageConverter.class))
                                                 .partitionCheckInterval(source.partitionCheckInterval());
            source.topics().forEach(topic -> builder.topic(PulsarTopics.normalize(topic)));
            return builder.build();
        }

        private static PulsarSubscribableMessageSource subscribable(BeanFactory beans, String name,
                                                                    ReceivingProperties.Source source) {
            PulsarSubscribableMessageSource.Builder builder =
                    PulsarSubscribableMessageSource.builder().pulsarClient(beans.getBean(PulsarClient.class))
                                                   .converter(beans.getBean(OutboxMessageConverter.class))
                                                   .subscription(source.subscription() != null
                                                                         ? source.subscription() : name)
                                                   .foreignMessages(source.foreignMessages());
            source.topics().forEach(topic -> builder.topic(PulsarTopics.normalize(topic)));
            return builder.build();
        }

        @Override
        public void postProcessBeanFactory(
                org.springframework.beans.factory.config.ConfigurableListableBeanFactory beanFactory) {
        }
    }
}
