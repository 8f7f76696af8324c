package io.github.pulsaroutbox.demo.postgres;

import org.springframework.boot.autoconfigure.orm.jpa.HibernatePropertiesCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Runs the demo on PostgreSQL when {@code spring.datasource.url} points at one: Axon's JPA tables get {@code bytea}
 * columns ({@link ByteaPostgreSQLDialect}). Nothing else differs: the outbox ships its own PostgreSQL schema, and the
 * demo's {@code application.yml} lets Hibernate and the outbox create their tables on any database.
 */
@Configuration(proxyBeanMethods = false)
public class PostgresJpaConfiguration {

    @Bean
    HibernatePropertiesCustomizer byteaOnPostgres(Environment environment) {
        return properties -> {
            String url = environment.getProperty("spring.datasource.url", "");
            if (url.startsWith("jdbc:postgresql:")) {
                properties.put("hibernate.dialect", ByteaPostgreSQLDialect.class.getName());
            }
        };
    }
}
