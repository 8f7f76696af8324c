package io.github.pulsaroutbox.test;

import org.springframework.boot.autoconfigure.ImportAutoConfiguration;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On a Spring Boot test ({@code @SpringBootTest}): the application's Pulsar client and admin client connect to the
 * test run's broker ({@link PulsarTestBroker}), started on first use, with no property to set. It registers Spring
 * Boot's {@code PulsarConnectionDetails} (the hook Boot's own Testcontainers support uses), which wins over
 * {@code spring.pulsar.client.service-url} and {@code spring.pulsar.admin.service-url}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ImportAutoConfiguration(PulsarTestBrokerAutoConfiguration.class)
public @interface AutoConfigurePulsarTestBroker {
}
