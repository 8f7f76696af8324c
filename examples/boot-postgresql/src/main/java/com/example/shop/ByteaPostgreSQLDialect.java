package com.example.shop;

import org.hibernate.boot.model.TypeContributions;
import org.hibernate.dialect.PostgreSQLDialect;
import org.hibernate.service.ServiceRegistry;
import org.hibernate.type.SqlTypes;
import org.hibernate.type.descriptor.jdbc.BinaryJdbcType;

import java.sql.Types;

/**
 * PostgreSQL as Hibernate sees it, except that Axon's {@code @Lob byte[]} columns (event and snapshot payloads and
 * metadata, tokens, sagas) are {@code bytea} instead of {@code oid}: large objects live outside the table, are not
 * removed with their rows (they pile up unless {@code vacuumlo} runs) and can only be read inside a transaction.
 * This is what AxonIQ recommends for Hibernate 6 on PostgreSQL ({@code spring.jpa.properties.hibernate.dialect}).
 */
public class ByteaPostgreSQLDialect extends PostgreSQLDialect {

    @Override
    protected String columnType(int sqlTypeCode) {
        return sqlTypeCode == SqlTypes.BLOB ? "bytea" : super.columnType(sqlTypeCode);
    }

    @Override
    protected String castType(int sqlTypeCode) {
        return sqlTypeCode == SqlTypes.BLOB ? "bytea" : super.castType(sqlTypeCode);
    }

    @Override
    public void contributeTypes(TypeContributions typeContributions, ServiceRegistry serviceRegistry) {
        super.contributeTypes(typeContributions, serviceRegistry);
        typeContributions.getTypeConfiguration().getJdbcTypeRegistry()
                         .addDescriptor(Types.BLOB, BinaryJdbcType.INSTANCE);
    }
}
